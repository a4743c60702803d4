/**
 * ConsumerOffsets: per (group, topic, queue), how far POP consumption has got. Persisted in the
 * MetaTable `consumer-offsets` (docs/decisions/0001), key queueKey(ref) → QueuePosition.
 *
 * | field           | meaning                                                                 |
 * | --------------- | ----------------------------------------------------------------------- |
 * | committedOffset | every QueueOffset below it is acked (or filtered out) for the group     |
 * | nextOffset      | the first QueueOffset never popped; new messages are read from here      |
 *
 * Invariant, with the in-flight records of InflightStore: every offset in [committed, next) is
 * either in flight or acked, and committed = min(lowest in-flight offset, next). The position is
 * written after the in-flight records it covers, so a crash between the two leaves `next` too
 * low or `committed` stale; PopConsumption.open repairs both from the in-flight table.
 *
 * Pull consumers (PullMessage reads by offset and keeps no state here) commit with UpdateOffset
 * into the same position, committed = next = the given offset (PopConsumption.commitOffset), and
 * read it back with GetOffset as committedOffset — one offset per (group, queue), as in
 * RocketMQ's consumer offset table, whichever way the group consumes.
 */
import type { MetaTable } from '@apogee/storage';
import { parseKey, queueKey, type QueueRef } from './queue-ref';

export const CONSUMER_OFFSETS_TABLE = 'consumer-offsets';

export interface QueuePosition {
  readonly committedOffset: number;
  readonly nextOffset: number;
}

export class ConsumerOffsets {
  constructor(private readonly table: MetaTable<QueuePosition>) {}

  get(ref: QueueRef): QueuePosition | undefined {
    return this.table.get(queueKey(ref));
  }

  /** The committed QueueOffset of the group in this queue, undefined if it never consumed it. */
  committed(ref: QueueRef): number | undefined {
    return this.get(ref)?.committedOffset;
  }

  /** Resolves once durable; writes nothing if the position is unchanged. */
  async set(ref: QueueRef, position: QueuePosition): Promise<void> {
    const current = this.get(ref);
    if (current?.committedOffset === position.committedOffset && current.nextOffset === position.nextOffset) return;
    await this.table.set(queueKey(ref), { committedOffset: position.committedOffset, nextOffset: position.nextOffset });
  }

  /** Every stored position (entries with unreadable keys are skipped). */
  *entries(): IterableIterator<[QueueRef, QueuePosition]> {
    for (const [key, position] of this.table.entries()) {
      const parsed = parseKey(key);
      if (parsed !== undefined && parsed.queueOffset === undefined) yield [parsed.ref, position];
    }
  }
}
