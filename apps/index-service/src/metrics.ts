import { Counter, Gauge, type Registry } from 'prom-client';

/** What the lag gauges read at each scrape, per followed broker. */
export interface FollowedBrokerLag {
  readonly brokerName: string;
  /** max_offset − indexed offset of the last batch. */
  readonly lagBytes: number;
  /** 0 when caught up; else now − store time of the newest message indexed (or since following began). */
  readonly lagSeconds: number;
}

/**
 * The index-service's own Prometheus metrics, all named here: prefix apogee_index_, unit
 * suffixes, one bounded label (`broker`: a broker group name of the cluster). Runtime adds Node's
 * default apogee_ metrics and apogee_index_service_info.
 */
export function createIndexMetrics(registry: Registry, lag: () => readonly FollowedBrokerLag[]) {
  return {
    lagBytes: new Gauge({
      name: 'apogee_index_lag_bytes',
      help: "Bytes of the broker's commit log not yet indexed (its end minus the indexed offset).",
      labelNames: ['broker'],
      registers: [registry],
      collect() {
        this.reset();
        for (const b of lag()) this.set({ broker: b.brokerName }, b.lagBytes);
      },
    }),
    lagSeconds: new Gauge({
      name: 'apogee_index_lag_seconds',
      help: 'How far indexing is behind the broker in time: 0 when caught up, else the age of the newest message indexed.',
      labelNames: ['broker'],
      registers: [registry],
      collect() {
        this.reset();
        for (const b of lag()) this.set({ broker: b.brokerName }, b.lagSeconds);
      },
    }),
    messages: new Counter({
      name: 'apogee_index_messages_total',
      help: 'Stored messages indexed, per broker.',
      labelNames: ['broker'],
      registers: [registry],
    }),
    entries: new Counter({
      name: 'apogee_index_entries_total',
      help: 'Key-index entries appended (one per key and one per message id), per broker.',
      labelNames: ['broker'],
      registers: [registry],
    }),
    checkpoints: new Counter({
      name: 'apogee_index_checkpoints_total',
      help: 'Checkpoints stored (index flushed, then stream positions and entry count recorded).',
      registers: [registry],
    }),
  };
}

export type IndexMetrics = ReturnType<typeof createIndexMetrics>;
