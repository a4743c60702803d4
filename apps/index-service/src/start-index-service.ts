import { mkdir } from 'node:fs/promises';
import { createLogger, createMetricsRegistry, startService, type Logger, type RunningService } from '@apogee/runtime';
import { APP, type IndexServiceConfig } from './config';

export interface IndexServiceDeps {
  /** Defaults to a JSON logger on stdout at config.logLevel. */
  logger?: Logger;
}

/**
 * Starts the index-service, which will tail brokers' dispatch streams and keep a key index.
 * Today it serves grpc.health.v1 and /metrics only; its services join here as they land.
 * Integration tests call it in-process with grpcPort and metricsPort 0.
 */
export async function startIndexService(config: IndexServiceConfig, deps: IndexServiceDeps = {}): Promise<RunningService> {
  const logger: Logger = deps.logger ?? createLogger({ app: APP, level: config.logLevel });
  await mkdir(config.dataDir, { recursive: true });
  return startService({ config, logger, registry: createMetricsRegistry(APP), services: [] });
}
