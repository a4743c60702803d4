/**
 * Reads candidate messages for a pop from the message store: due redeliveries from the in-flight
 * records, and new messages from a queue's next offset through the tag filter. Pure reads; the
 * caller decides what to persist.
 */
import type { CqEntry, MessageStore, StoredMessage } from '@apogee/storage';
import type { InflightMessage } from './inflight-store';
import type { QueueRef } from './queue-ref';
import type { MessageFilter } from './message-filter';

/** Consume-queue entries read per store call while scanning for new messages. */
const SCAN_BATCH = 64;
/** Entries looked at per pop, matching or not, so one pop never scans a whole queue. */
export const MAX_SCAN_ENTRIES = 4_096;

export interface NewMessages {
  readonly messages: StoredMessage[];
  /** The next offset after the scan: past every delivered, filtered-out or empty entry looked at. */
  readonly nextOffset: number;
}

/**
 * Up to `want` new messages of the queue from `from` that pass the filter. Non-matching entries
 * and holes are passed over (they count as acked for the group, as in RocketMQ).
 */
export function scanNewMessages(
  store: Pick<MessageStore, 'queueRange' | 'entries' | 'readMany'>,
  ref: QueueRef,
  from: number,
  want: number,
  filter: MessageFilter,
): NewMessages {
  const messages: StoredMessage[] = [];
  const { min, max } = store.queueRange(ref.topic, ref.queueId);
  let next = Math.max(from, min);
  let scanned = 0;
  while (messages.length < want && next < max && scanned < MAX_SCAN_ENTRIES) {
    const entries = store.entries(ref.topic, ref.queueId, next, SCAN_BATCH);
    if (entries.length === 0) break;
    // the entries whose tag hash matches, read together; a SQL filter then looks at their properties
    const candidates: CqEntry[] = [];
    for (const entry of entries) {
      if (messages.length + candidates.length >= want || scanned >= MAX_SCAN_ENTRIES) break;
      next = entry.queueOffset + 1;
      scanned += 1;
      if (entry.totalBytes !== 0 && filter.matchesHash(entry.tagHash)) candidates.push(entry);
    }
    for (const message of store.readMany(candidates)) if (filter.matches(message)) messages.push(message);
  }
  return { messages, nextOffset: next };
}

export interface DueMessage {
  readonly record: InflightMessage;
  readonly message: StoredMessage;
}

export interface DueMessages {
  /** Visible again with attempts left: up to `want`, oldest offset first. */
  readonly due: DueMessage[];
  /** Visible again with every attempt used: every one of them, for the dead-letter queue. */
  readonly exhausted: DueMessage[];
  /** Due records whose message retention already deleted: drop them. */
  readonly gone: number[];
}

/** The in-flight records visible again at `nowMs`, split by whether they have attempts left. */
export function dueRedeliveries(
  store: Pick<MessageStore, 'queueRange' | 'entries' | 'read'>,
  ref: QueueRef,
  inflight: readonly InflightMessage[],
  options: { nowMs: number; want: number; maxDeliveryAttempts: number },
): DueMessages {
  const due: DueMessage[] = [];
  const exhausted: DueMessage[] = [];
  const gone: number[] = [];
  for (const record of inflight) {
    if (record.invisibleUntilMs > options.nowMs) continue;
    const isExhausted = record.deliveryAttempt >= options.maxDeliveryAttempts;
    if (!isExhausted && due.length >= options.want) continue;
    const message = readQueueMessage(store, ref, record.queueOffset);
    if (message === undefined) gone.push(record.queueOffset);
    else (isExhausted ? exhausted : due).push({ record, message });
  }
  return { due, exhausted, gone };
}

/** The message at a QueueOffset of the queue; undefined once retention deleted it. */
export function readQueueMessage(
  store: Pick<MessageStore, 'queueRange' | 'entries' | 'read'>,
  ref: QueueRef,
  queueOffset: number,
): StoredMessage | undefined {
  if (queueOffset < store.queueRange(ref.topic, ref.queueId).min) return undefined;
  const [entry] = store.entries(ref.topic, ref.queueId, queueOffset, 1);
  if (entry === undefined || entry.queueOffset !== queueOffset || entry.totalBytes === 0) return undefined;
  return store.read(entry.physicalOffset, entry.totalBytes);
}
