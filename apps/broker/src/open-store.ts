import path from 'node:path';
import { MessageStore } from '@apogee/storage';
import type { Logger } from '@apogee/runtime';
import type { BrokerConfig } from './config';
import { advertisedAddressOf } from './registration/advertised-address';

const HOUR_MS = 3_600_000;

/** Opens the broker's message store under <dataDir>/store (recovering it if the last run crashed). */
export function openBrokerStore(config: BrokerConfig, logger: Logger): Promise<MessageStore> {
  return MessageStore.open(
    {
      dir: path.join(config.dataDir, 'store'),
      flushMode: config.flushMode,
      flushIntervalMs: config.flushIntervalMs,
      segmentBytes: config.segmentBytes,
      maxBodyBytes: config.maxBodyBytes,
      retentionMs: Math.round(config.retentionHours * HOUR_MS),
      diskHighWatermark: config.diskHighWatermark,
      diskCriticalWatermark: config.diskCriticalWatermark,
      // The configured port: the store opens before gRPC binds (with grpcPort 0 the host ends in :0).
      storeHost: advertisedAddressOf(config, config.grpcPort),
    },
    { logger: logger.child({ component: 'store' }) },
  );
}
