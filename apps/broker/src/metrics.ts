import { Gauge, type Registry } from 'prom-client';
import type { MessageStore } from '@apogee/storage';

/**
 * The broker's own Prometheus metrics, all named here: prefix apogee_broker_, unit suffixes
 * (_total, _seconds, _bytes), bounded labels only. Runtime adds Node's default apogee_ metrics
 * and apogee_broker_info.
 */
export function createBrokerMetrics(registry: Registry, store: MessageStore) {
  /** A gauge read from the store at each scrape. */
  const storeGauge = (name: string, help: string, read: () => number): Gauge =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  return {
    logMin: storeGauge(
      'apogee_broker_commit_log_min_offset_bytes',
      'PhysicalOffset of the oldest byte still in the commit log.',
      () => store.minPhysicalOffset,
    ),
    logMax: storeGauge(
      'apogee_broker_commit_log_max_offset_bytes',
      'PhysicalOffset of the end of the written commit log.',
      () => store.maxPhysicalOffset,
    ),
    logUnsynced: storeGauge(
      'apogee_broker_commit_log_unsynced_bytes',
      'Written commit-log bytes not yet fdatasync-ed.',
      () => store.maxPhysicalOffset - store.syncedPhysicalOffset,
    ),
  };
}

export type BrokerMetrics = ReturnType<typeof createBrokerMetrics>;
