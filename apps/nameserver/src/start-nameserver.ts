import {
  createLogger,
  createMetricsRegistry,
  startService,
  systemClock,
  type Clock,
  type Logger,
  type RunningService,
} from '@apogee/runtime';
import { APP, heartbeatTimingOf, validateNameserverConfig, type NameserverConfig } from './config';
import { startEvictionTimer } from './eviction-timer';
import { createNameserverMetrics } from './metrics';
import { createNameServerService } from './nameserver-service';
import { RouteRegistry } from './route-registry';

export interface NameserverDeps {
  /** Defaults to a JSON logger on stdout at config.logLevel. */
  logger?: Logger;
  /** Heartbeat times and eviction; the system clock by default. */
  clock?: Clock;
}

/**
 * Starts the nameserver: the topic route registry brokers register with. Serves
 * apogee.nameserver.v1.NameServer and grpc.health.v1 over gRPC, and /metrics; drops brokers
 * silent for longer than config.evictionWindowMs. State is in memory only.
 * Integration tests call it in-process with grpcPort and metricsPort 0.
 */
export async function startNameserver(config: NameserverConfig, deps: NameserverDeps = {}): Promise<RunningService> {
  validateNameserverConfig(config);
  const logger: Logger = deps.logger ?? createLogger({ app: APP, level: config.logLevel });
  const routesLogger = logger.child({ component: 'routes' });
  const routes = new RouteRegistry(deps.clock ?? systemClock);
  const registry = createMetricsRegistry(APP);
  const metrics = createNameserverMetrics(registry, routes);
  const ctx = { routes, metrics, logger: routesLogger, timing: heartbeatTimingOf(config) };
  const service = await startService({ config, logger, registry, services: [createNameServerService(ctx)] });
  const eviction = startEvictionTimer({
    ...ctx,
    windowMs: config.evictionWindowMs,
    checkIntervalMs: config.evictionCheckIntervalMs,
  });

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      try {
        await service.stop();
      } finally {
        eviction.stop();
      }
    })());
  return { ...service, stop };
}
