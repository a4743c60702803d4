import type { HealthImplementation } from 'grpc-health-check';
import type { Registry } from 'prom-client';
import type { Logger } from './logger';
import type { ServiceConfig } from './service-config';
import { startGrpcServer, type GrpcServiceRegistration } from './grpc-server';
import { createMetricsRegistry } from './metrics-registry';
import { startMetricsServer } from './metrics-server';

export interface StartServiceOptions {
  config: ServiceConfig;
  logger: Logger;
  /** The app's registry, with its own metrics registered; a fresh one if absent. */
  registry?: Registry;
  services?: readonly GrpcServiceRegistration[];
}

/** A started service: what start<App>() functions return (tests start apps in-process on port 0). */
export interface RunningService {
  grpcPort: number;
  /** host:port */
  grpcAddress: string;
  metricsPort: number;
  /** host:port, serving GET /metrics */
  metricsAddress: string;
  health: HealthImplementation;
  registry: Registry;
  /** Stops gRPC (health NOT_SERVING, drain, cancel after the grace period), then /metrics. Idempotent. */
  stop(): Promise<void>;
  /** Serves gRPC on one more host:port too (GrpcServer.listenAlso). */
  listenAlso(address: string): Promise<void>;
  /** Stops serving on an address added with listenAlso. */
  stopListening(address: string): void;
}

/** Starts the gRPC server (with grpc.health.v1) and the /metrics server, then logs 'listening'. */
export async function startService(options: StartServiceOptions): Promise<RunningService> {
  const { config, logger } = options;
  const registry = options.registry ?? createMetricsRegistry();
  const grpc = await startGrpcServer({
    host: config.grpcHost,
    port: config.grpcPort,
    services: options.services,
    shutdownGraceMs: config.shutdownGraceMs,
  });
  let metrics;
  try {
    metrics = await startMetricsServer({ registry, host: config.metricsHost, port: config.metricsPort });
  } catch (err) {
    await grpc.stop();
    throw err;
  }
  logger.info({ grpc: grpc.address, metrics: metrics.address }, 'listening');

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await grpc.stop();
      await metrics.stop();
      logger.info({}, 'stopped');
    })());
  return {
    grpcPort: grpc.port,
    grpcAddress: grpc.address,
    metricsPort: metrics.port,
    metricsAddress: metrics.address,
    health: grpc.health,
    registry,
    stop,
    listenAlso: grpc.listenAlso,
    stopListening: grpc.stopListening,
  };
}
