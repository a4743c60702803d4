import { createLogger, createMetricsRegistry, startService, type Logger, type RunningService } from '@apogee/runtime';
import { APP, type NameserverConfig } from './config';

export interface NameserverDeps {
  /** Defaults to a JSON logger on stdout at config.logLevel. */
  logger?: Logger;
}

/**
 * Starts the nameserver, the topic route registry brokers will register with.
 * Today it serves grpc.health.v1 and /metrics only; its services join here as they land.
 * Integration tests call it in-process with grpcPort and metricsPort 0.
 */
export async function startNameserver(config: NameserverConfig, deps: NameserverDeps = {}): Promise<RunningService> {
  const logger: Logger = deps.logger ?? createLogger({ app: APP, level: config.logLevel });

  return startService({ config, logger, registry: createMetricsRegistry(APP), services: [] });
}
