import { mkdir } from 'node:fs/promises';
import {
  createLogger,
  createMetricsRegistry,
  startService,
  type Logger,
  type RunningService,
} from '@apogee/runtime';
import { APP, type HaReplicatorConfig } from './config';
import { createHaReplicatorMetrics } from './metrics';

export interface HaReplicatorDeps {
  /** Defaults to a JSON logger on stdout at config.logLevel. */
  logger?: Logger;
}

/**
 * Starts the ha-replicator, which will follow replication progress and fail over broker groups.
 * Today it serves grpc.health.v1 and /metrics only; its services join here as they land.
 * Integration tests call it in-process with grpcPort and metricsPort 0.
 */
export async function startHaReplicator(
  config: HaReplicatorConfig,
  deps: HaReplicatorDeps = {},
): Promise<RunningService> {
  const logger = deps.logger ?? createLogger({ app: APP, level: config.logLevel });
  await mkdir(config.dataDir, { recursive: true });
  const registry = createMetricsRegistry();
  createHaReplicatorMetrics(registry);
  return startService({ config, logger, registry, services: [] });
}
