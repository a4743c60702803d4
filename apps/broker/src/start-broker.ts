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
import { openBrokerStore } from './open-store';

export interface BrokerDeps {
  /** Defaults to a JSON logger on stdout at config.logLevel. */
  logger?: Logger;
}

/**
 * Starts the broker: opens (and if needed recovers) its message store, then serves gRPC
 * (grpc.health.v1 today; apache.rocketmq.v2.MessagingService joins here) and /metrics.
 * Stopping closes the servers first, then flushes and closes the store.
 * Integration tests call it in-process with grpcPort and metricsPort 0.
 */
export async function startBroker(
  config: BrokerConfig,
  deps: BrokerDeps = {},
): Promise<RunningService> {
  const logger: Logger = deps.logger ?? createLogger({ app: APP, level: config.logLevel });
  await mkdir(config.dataDir, { recursive: true });
  const store = await openBrokerStore(config, logger);
  const registry = createMetricsRegistry(APP);
  createBrokerMetrics(registry, store);
  let service: RunningService;
  try {
    service = await startService({ config, logger, registry, services: [] });
  } catch (err) {
    await store.close();
    throw err;
  }
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      try {
        await service.stop();
      } finally {
        await store.close();
        logger.info({}, 'store closed');
      }
    })());
  return { ...service, stop };
}
