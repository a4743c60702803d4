import { mkdir } from 'node:fs/promises';
import {
  createLogger,
  createMetricsRegistry,
  startService,
  type Logger,
  type RunningService,
} from '@apogee/runtime';
import type { MessageStore } from '@apogee/storage';
import { createBrokerAdminService } from './admin/broker-admin-service';
import { APP, type BrokerConfig } from './config';
import { openBrokerMetadata, type BrokerMetadata } from './metadata/open-metadata';
import { createBrokerMetrics } from './metrics';
import { openBrokerStore } from './open-store';

export interface BrokerDeps {
  /** Defaults to a JSON logger on stdout at config.logLevel. */
  logger?: Logger;
}

/**
 * Starts the broker: opens (and if needed recovers) its message store and its topic and group
 * metadata, then serves gRPC (grpc.health.v1 and apogee.broker.v1.BrokerAdmin today;
 * apache.rocketmq.v2.MessagingService joins here) and /metrics. Stopping closes the servers
 * first, then flushes and closes the store, then the metadata.
 * Integration tests call it in-process with grpcPort and metricsPort 0.
 */
export async function startBroker(
  config: BrokerConfig,
  deps: BrokerDeps = {},
): Promise<RunningService> {
  const logger: Logger = deps.logger ?? createLogger({ app: APP, level: config.logLevel });
  await mkdir(config.dataDir, { recursive: true });
  const store = await openBrokerStore(config, logger);
  let metadata: BrokerMetadata | undefined;
  let service: RunningService;
  try {
    metadata = await openBrokerMetadata(config, logger);
    const registry = createMetricsRegistry(APP);
    createBrokerMetrics(registry, store, metadata);
    service = await startService({ config, logger, registry, services: [createBrokerAdminService(metadata, logger)] });
  } catch (err) {
    await closeStores(store, metadata, logger).catch((closeErr: unknown) =>
      logger.error({ err: closeErr }, 'close after a failed start failed'),
    );
    throw err;
  }
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      try {
        await service.stop();
      } finally {
        await closeStores(store, metadata, logger);
      }
    })());
  return { ...service, stop };
}

/** Closes the message store, then the metadata (also when the store fails to close). */
async function closeStores(store: MessageStore, metadata: BrokerMetadata | undefined, logger: Logger): Promise<void> {
  try {
    await store.close();
    logger.info({}, 'store closed');
  } finally {
    if (metadata !== undefined) {
      await metadata.close();
      logger.info({}, 'metadata closed');
    }
  }
}
