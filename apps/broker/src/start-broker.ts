import { mkdir } from 'node:fs/promises';
import {
  createLogger,
  createMetricsRegistry,
  startService,
  type Logger,
  type RunningService,
} from '@apogee/runtime';
import { APP, type BrokerConfig } from './config';
import { createBrokerMetrics } from './metrics';

export interface BrokerDeps {
  /** Defaults to a JSON logger on stdout at config.logLevel. */
  logger?: Logger;
}

/**
 * Starts the broker, which will store and serve messages (apache.rocketmq.v2.MessagingService).
 * Today it serves grpc.health.v1 and /metrics only; its services join here as they land.
 * Integration tests call it in-process with grpcPort and metricsPort 0.
 */
export async function startBroker(
  config: BrokerConfig,
  deps: BrokerDeps = {},
): Promise<RunningService> {
  const logger = deps.logger ?? createLogger({ app: APP, level: config.logLevel });
  await mkdir(config.dataDir, { recursive: true });
  const registry = createMetricsRegistry();
  createBrokerMetrics(registry);
  return startService({ config, logger, registry, services: [] });
}
