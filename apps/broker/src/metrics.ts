import { Gauge, type Registry } from 'prom-client';
import type { MessageStore } from '@apogee/storage';

/**
 * The broker's own Prometheus metrics, all named here: prefix apogee_broker_, unit suffixes
 * (_total, _seconds, _bytes), bounded labels only. Runtime adds Node's default apogee_ metrics
 * and apogee_broker_info.
 */
export function createBrokerMetrics(registry: Registry, store: MessageStore) {
  const logMin = new Gauge({
    name: 'apogee_broker_commit_log_min_offset_bytes',
    help: 'PhysicalOffset of the oldest byte still in the commit log.',
    registers: [registry],
    collect() {
      this.set(store.minPhysicalOffset);
    },
  });
  const logMax = new Gauge({
    name: 'apogee_broker_commit_log_max_offset_bytes',
    help: 'PhysicalOffset of the end of the written commit log.',
    registers: [registry],
    collect() {
      this.set(store.maxPhysicalOffset);
    },
  });
  const logUnsynced = new Gauge({
    name: 'apogee_broker_commit_log_unsynced_bytes',
    help: 'Written commit-log bytes not yet fdatasync-ed.',
    registers: [registry],
    collect() {
      this.set(store.maxPhysicalOffset - store.syncedPhysicalOffset);
    },
  });
  return { logMin, logMax, logUnsynced };
}

export type BrokerMetrics = ReturnType<typeof createBrokerMetrics>;
