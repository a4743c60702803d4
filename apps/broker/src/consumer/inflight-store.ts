/**
 * InflightStore: messages popped by a consumer group and not yet acked. Persisted in the
 * MetaTable `pop-inflight`, one entry per in-flight message, key messageKey(ref, queueOffset)
 * → InflightMessage; the entry is deleted on ack, so the table holds only what is in flight
 * (PopConsumption caps that per queue). A whole pop is one setMany: after a crash all or none of
 * its records are present. An index per queue is kept in memory and changed only after the
 * table write is durable, so it always equals the durable state.
 */
import type { MetaTable } from '@apogee/storage';
import { messageKey, parseKey, queueKey, type QueueRef } from './queue-ref';

export const INFLIGHT_TABLE = 'pop-inflight';

export interface InflightMessage {
  readonly queueOffset: number;
  /** The delivery the current receipt handle belongs to; older handles are stale. */
  readonly popId: number;
  /** Deliveries so far, this one included. */
  readonly deliveryAttempt: number;
  /** Epoch ms from which the message may be delivered again. */
  readonly invisibleUntilMs: number;
}

interface QueueIndex {
  readonly ref: QueueRef;
  readonly messages: Map<number, InflightMessage>;
}

export class InflightStore {
  private readonly byQueue = new Map<string, QueueIndex>();

  constructor(private readonly table: MetaTable<InflightMessage>) {
    for (const [key, message] of table.entries()) {
      const parsed = parseKey(key);
      if (parsed?.queueOffset === undefined) continue;
      this.indexOf(parsed.ref).messages.set(parsed.queueOffset, message);
    }
  }

  get(ref: QueueRef, queueOffset: number): InflightMessage | undefined {
    return this.byQueue.get(queueKey(ref))?.messages.get(queueOffset);
  }

  /** The queue's in-flight messages in QueueOffset order. */
  list(ref: QueueRef): InflightMessage[] {
    const messages = this.byQueue.get(queueKey(ref))?.messages;
    return messages === undefined ? [] : [...messages.values()].sort((a, b) => a.queueOffset - b.queueOffset);
  }

  /** The queue's in-flight messages in no particular order, without copying (checks on hot paths). */
  values(ref: QueueRef): Iterable<InflightMessage> {
    return this.byQueue.get(queueKey(ref))?.messages.values() ?? [];
  }

  count(ref: QueueRef): number {
    return this.byQueue.get(queueKey(ref))?.messages.size ?? 0;
  }

  /** Lowest and highest in-flight QueueOffset of the queue, undefined when none is in flight. */
  bounds(ref: QueueRef): { lowest: number; highest: number } | undefined {
    const messages = this.byQueue.get(queueKey(ref))?.messages;
    if (messages === undefined || messages.size === 0) return undefined;
    let lowest = Infinity;
    let highest = -Infinity;
    for (const offset of messages.keys()) {
      lowest = Math.min(lowest, offset);
      highest = Math.max(highest, offset);
    }
    return { lowest, highest };
  }

  /** Queues with at least one message in flight. */
  queues(): QueueRef[] {
    return [...this.byQueue.values()].filter((index) => index.messages.size > 0).map((index) => index.ref);
  }

  /** Adds or replaces records, atomically and durably, then indexes them. */
  put(ref: QueueRef, messages: readonly InflightMessage[]): Promise<void> {
    return this.replace(ref, [], messages);
  }

  /** Removes records durably (acked, dropped), then unindexes them. */
  remove(ref: QueueRef, queueOffsets: readonly number[]): Promise<void> {
    return this.replace(ref, queueOffsets, []);
  }

  /** Removes some records and adds or replaces others in one durable record, then reindexes. */
  async replace(ref: QueueRef, removed: readonly number[], added: readonly InflightMessage[]): Promise<void> {
    if (removed.length === 0 && added.length === 0) return;
    await this.table.update({
      set: added.map((m) => [messageKey(ref, m.queueOffset), { ...m }] as const),
      delete: removed.map((offset) => messageKey(ref, offset)),
    });
    const index = this.indexOf(ref);
    for (const m of added) index.messages.set(m.queueOffset, Object.freeze({ ...m }));
    for (const offset of removed) index.messages.delete(offset); // as the table does: deletes last
    if (index.messages.size === 0) this.byQueue.delete(queueKey(ref));
  }

  private indexOf(ref: QueueRef): QueueIndex {
    const key = queueKey(ref);
    let index = this.byQueue.get(key);
    if (index === undefined) {
      index = { ref: { group: ref.group, topic: ref.topic, queueId: ref.queueId }, messages: new Map() };
      this.byQueue.set(key, index);
    }
    return index;
  }
}
