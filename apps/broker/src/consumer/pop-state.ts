/**
 * The consume-state table: every consumer group's positions (consumer-offsets.ts) and POP
 * batches in flight (inflight-store.ts) in one MetaTable, so that a pop or an ack is one durable
 * record. The table keeps the name `consumer-offsets` it had when it held positions only.
 *
 * Brokers before batches kept in-flight messages in a table of their own, `pop-inflight`, one
 * entry per message. Opening moves those entries over (InflightStore reads them as batches of
 * one) and then empties the old table; a crash in between only moves them again.
 */
import type { MetadataStore, MetaTable } from '@apogee/storage';

export const POP_STATE_TABLE = 'consumer-offsets';
export const LEGACY_INFLIGHT_TABLE = 'pop-inflight';

export async function openPopState(meta: MetadataStore): Promise<MetaTable<unknown>> {
  const table = await meta.table<unknown>(POP_STATE_TABLE);
  if (await meta.exists(LEGACY_INFLIGHT_TABLE)) {
    const legacy = await meta.table<unknown>(LEGACY_INFLIGHT_TABLE);
    const entries = [...legacy.entries()];
    if (entries.length > 0) {
      await table.update({ set: entries });
      await legacy.update({ delete: entries.map(([key]) => key) });
    }
  }
  return table;
}
