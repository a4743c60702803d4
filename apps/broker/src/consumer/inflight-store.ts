/**
 * InflightStore: messages popped by a consumer group and not yet acked, kept per pop batch as
 * RocketMQ's PopCheckPoint does, not one record per message.
 *
 * Durable form, in the group's consume-state table (pop-state.ts), one entry per batch:
 *
 *   key   batchKey(ref, popId) = JSON ["<group>", "<topic>", <queueId>, "pop", <popId>]
 *   value { "invisibleUntilMs": <epoch ms>, "entries": [<queueOffset>, <deliveryAttempt>, ...] }
 *
 * One pop (same popId and invisible-until for every message it delivered) is one entry; `entries`
 * lists the batch's messages still in flight, as flat (offset, attempt) pairs. An ack, a
 * redelivery (the message moves to the new pop's batch) or a changed invisible duration (a batch
 * of its own) rewrites the old batch without the message, or deletes it when none is left. A
 * receipt handle names (queueOffset, popId): it is current while the message is in the batch of
 * that popId. Entries written by older brokers, one per message (key [group, topic, queueId,
 * queueOffset], value InflightMessage), are read as batches of one.
 *
 * InflightStore writes nothing itself: `plan` returns the table changes for a change of the
 * queue's in-flight set and an `apply` to call once they are durable, so PopConsumption commits
 * them in one record with the queue's position. The in-memory index so always equals the
 * durable state.
 */
import { queueKey, type QueueRef } from './queue-ref';

export interface InflightMessage {
  readonly queueOffset: number;
  /** The pop (batch) the current receipt handle belongs to; older handles are stale. */
  readonly popId: number;
  /** Deliveries so far, this one included. */
  readonly deliveryAttempt: number;
  /** Epoch ms from which the message may be delivered again. */
  readonly invisibleUntilMs: number;
}

interface StoredBatch {
  readonly invisibleUntilMs: number;
  readonly entries: readonly number[];
}

interface Batch {
  readonly key: string;
  readonly offsets: Set<number>;
}

interface QueueIndex {
  readonly ref: QueueRef;
  readonly messages: Map<number, InflightMessage>;
  readonly batches: Map<number, Batch>;
}

/** Table changes that move a queue's in-flight set, and the in-memory update once they are durable. */
export interface InflightPlan {
  readonly set: Array<readonly [string, unknown]>;
  readonly delete: string[];
  /** Lowest and highest in-flight QueueOffset after the change (undefined: none left). */
  readonly bounds: { lowest: number; highest: number } | undefined;
  apply(): void;
}

export function batchKey(ref: QueueRef, popId: number): string {
  return JSON.stringify([ref.group, ref.topic, ref.queueId, 'pop', popId]);
}

export class InflightStore {
  private readonly byQueue = new Map<string, QueueIndex>();

  /** Indexes the batches among a consume-state table's entries (other keys are skipped). */
  constructor(entries: Iterable<readonly [string, unknown]>) {
    for (const [key, value] of entries) this.load(key, value);
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
    return boundsOf(this.byQueue.get(queueKey(ref))?.messages.keys() ?? [], new Set(), []);
  }

  /** Queues with at least one message in flight. */
  queues(): QueueRef[] {
    return [...this.byQueue.values()].filter((index) => index.messages.size > 0).map((index) => index.ref);
  }

  /** A popId no batch of the queue uses (pop ids come from a counter with a random start). */
  freshPopId(ref: QueueRef, next: () => number): number {
    const batches = this.byQueue.get(queueKey(ref))?.batches;
    let popId = next();
    while (batches?.has(popId)) popId = next();
    return popId;
  }

  /**
   * The changes that take `removed` out of flight and put `added` in (each group of records with
   * one popId becomes a new batch; a record for an offset already in flight replaces it). Every
   * record of one popId must share its invisibleUntilMs, and that popId must not be in use.
   */
  plan(ref: QueueRef, removed: readonly number[], added: readonly InflightMessage[]): InflightPlan {
    const index = this.byQueue.get(queueKey(ref));
    const gone = new Set(removed);
    for (const m of added) gone.add(m.queueOffset);
    const set: Array<readonly [string, unknown]> = [];
    const deleted: string[] = [];
    const shrunk = new Map<number, number[]>(); // popId → offsets that stay
    for (const offset of gone) {
      const record = index?.messages.get(offset);
      if (record === undefined || shrunk.has(record.popId)) continue;
      const batch = index?.batches.get(record.popId) as Batch;
      const stays = [...batch.offsets].filter((o) => !gone.has(o));
      shrunk.set(record.popId, stays);
      if (stays.length === 0) deleted.push(batch.key);
      else set.push([batch.key, storedBatch(stays.map((o) => index?.messages.get(o) as InflightMessage))]);
    }
    const fresh = groupByPopId(added);
    for (const [popId, records] of fresh) set.push([batchKey(ref, popId), storedBatch(records)]);
    const bounds = boundsOf(index?.messages.keys() ?? [], gone, added);
    const apply = (): void => this.applyPlan(ref, gone, shrunk, fresh);
    return { set, delete: deleted, bounds, apply };
  }

  private applyPlan(ref: QueueRef, gone: ReadonlySet<number>, shrunk: ReadonlyMap<number, number[]>, fresh: ReadonlyMap<number, InflightMessage[]>): void {
    const index = this.indexOf(ref);
    for (const offset of gone) index.messages.delete(offset);
    for (const [popId, stays] of shrunk) {
      const batch = index.batches.get(popId) as Batch;
      if (stays.length === 0) index.batches.delete(popId);
      else index.batches.set(popId, { key: batch.key, offsets: new Set(stays) });
    }
    for (const [popId, records] of fresh) {
      index.batches.set(popId, { key: batchKey(ref, popId), offsets: new Set(records.map((m) => m.queueOffset)) });
      for (const m of records) index.messages.set(m.queueOffset, Object.freeze({ ...m }));
    }
    if (index.messages.size === 0) this.byQueue.delete(queueKey(ref));
  }

  private load(key: string, value: unknown): void {
    const parsed = parseStateKey(key);
    if (parsed === undefined) return;
    const { ref } = parsed;
    const index = this.indexOf(ref);
    if (parsed.popId !== undefined) {
      const { invisibleUntilMs, entries } = value as StoredBatch;
      const offsets = new Set<number>();
      for (let i = 0; i + 1 < entries.length; i += 2) {
        const record = { queueOffset: entries[i], popId: parsed.popId, deliveryAttempt: entries[i + 1], invisibleUntilMs };
        index.messages.set(record.queueOffset, Object.freeze(record));
        offsets.add(record.queueOffset);
      }
      index.batches.set(parsed.popId, { key, offsets });
    } else if (parsed.queueOffset !== undefined) {
      const legacy = value as InflightMessage; // one record per message, as brokers before batches wrote them
      index.messages.set(legacy.queueOffset, Object.freeze({ ...legacy }));
      index.batches.set(legacy.popId, { key, offsets: new Set([legacy.queueOffset]) });
    }
    if (index.messages.size === 0) this.byQueue.delete(queueKey(ref));
  }

  private indexOf(ref: QueueRef): QueueIndex {
    const key = queueKey(ref);
    let index = this.byQueue.get(key);
    if (index === undefined) {
      index = { ref: { group: ref.group, topic: ref.topic, queueId: ref.queueId }, messages: new Map(), batches: new Map() };
      this.byQueue.set(key, index);
    }
    return index;
  }
}

function storedBatch(records: readonly InflightMessage[]): StoredBatch {
  const entries: number[] = [];
  for (const m of records) entries.push(m.queueOffset, m.deliveryAttempt);
  return { invisibleUntilMs: records[0].invisibleUntilMs, entries };
}

function groupByPopId(records: readonly InflightMessage[]): Map<number, InflightMessage[]> {
  const groups = new Map<number, InflightMessage[]>();
  for (const m of records) {
    const group = groups.get(m.popId);
    if (group === undefined) groups.set(m.popId, [m]);
    else if (group[0].invisibleUntilMs !== m.invisibleUntilMs) throw new Error(`pop ${m.popId} mixes invisible-until times`);
    else group.push(m);
  }
  return groups;
}

function boundsOf(current: Iterable<number>, gone: ReadonlySet<number>, added: readonly InflightMessage[]): { lowest: number; highest: number } | undefined {
  let lowest = Infinity;
  let highest = -Infinity;
  for (const offset of current) {
    if (gone.has(offset)) continue;
    if (offset < lowest) lowest = offset;
    if (offset > highest) highest = offset;
  }
  for (const { queueOffset } of added) {
    if (queueOffset < lowest) lowest = queueOffset;
    if (queueOffset > highest) highest = queueOffset;
  }
  return lowest === Infinity ? undefined : { lowest, highest };
}

/** A batch key (popId), a legacy per-message key (queueOffset), or undefined for any other key. */
function parseStateKey(key: string): { ref: QueueRef; popId?: number; queueOffset?: number } | undefined {
  let parts: unknown;
  try {
    parts = JSON.parse(key);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parts)) return undefined;
  const [group, topic, queueId] = parts as unknown[];
  if (typeof group !== 'string' || typeof topic !== 'string' || !Number.isInteger(queueId)) return undefined;
  const ref = { group, topic, queueId: queueId as number };
  if (parts.length === 5 && parts[3] === 'pop' && Number.isInteger(parts[4])) return { ref, popId: parts[4] as number };
  if (parts.length === 4 && Number.isInteger(parts[3])) return { ref, queueOffset: parts[3] as number };
  return undefined;
}
