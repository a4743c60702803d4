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
 * either in flight or acked, and committed = min(lowest in-flight offset, next). POP writes the
 * position in the same record as the in-flight change it follows from; PopConsumption.open still
 * repairs positions that older brokers wrote in a separate step from the in-flight records.
 *
 * The table is the group's whole consume state: InflightStore's pop batches live in it too (their
 * keys have five parts, so `entries` skips them), which lets a pop or an ack commit its
 * in-flight change and the position in one record (`positionEntry` + InflightStore.plan).
 *
 * Pull consumers (PullMessage reads by offset and keeps no state here) commit with UpdateOffset
 * into the same position, committed = next = the given offset (PopConsumption.commitOffset), and
 * read it back with GetOffset as committedOffset — one offset per (group, queue), as in
 * RocketMQ's consumer offset table, whichever way the group consumes.
 */
import type { MetaTable } from '@apogee/storage';
import { parseKey, queueKey, type QueueRef } from './queue-ref';


export interface QueuePosition {
  readonly committedOffset: number;
  readonly nextOffset: number;
}

export class ConsumerOffsets {
  constructor(readonly table: MetaTable<unknown>) {}

  get(ref: QueueRef): QueuePosition | undefined {
    return this.table.get(queueKey(ref)) as QueuePosition | undefined;
  }

  /** The committed QueueOffset of the group in this queue, undefined if it never consumed it. */
  committed(ref: QueueRef): number | undefined {
    return this.get(ref)?.committedOffset;
  }

  /** The table entry that stores `position`, or undefined when it is the stored one already. */
  positionEntry(ref: QueueRef, position: QueuePosition): readonly [string, QueuePosition] | undefined {
    const current = this.get(ref);
    if (current?.committedOffset === position.committedOffset && current.nextOffset === position.nextOffset) return undefined;
    return [queueKey(ref), { committedOffset: position.committedOffset, nextOffset: position.nextOffset }];
  }

  /** Resolves once durable; writes nothing if the position is unchanged. */
  async set(ref: QueueRef, position: QueuePosition): Promise<void> {
    const entry = this.positionEntry(ref, position);
    if (entry !== undefined) await this.table.set(...entry);
  }

  /** Removes the position (a broadcast group's start for new clients, see broadcast-positions.ts); resolves once durable. */
  async delete(ref: QueueRef): Promise<void> {
    if (this.get(ref) !== undefined) await this.table.delete(queueKey(ref));
  }

  /** Every stored position (entries with unreadable keys are skipped). */
  *entries(): IterableIterator<[QueueRef, QueuePosition]> {
    for (const [key, position] of this.table.entries()) {
      const parsed = parseKey(key);
      if (parsed !== undefined && parsed.queueOffset === undefined) yield [parsed.ref, position as QueuePosition];
    }
  }
}
