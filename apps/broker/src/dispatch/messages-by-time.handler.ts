/**
 * MessagesByTime (proto/apogee/broker/v1/dispatch.proto): a topic's messages stored in
 * [from_ms, to_ms] (to_ms 0 or unset: no upper bound), queue by queue in id order, each queue in
 * queue order, at most `limit` (default 32, capped at MAX_TIME_PAGE) per page.
 *
 * Each queue starts at MessageStore.offsetAtTime(from_ms) (a binary search over its consume
 * queue) and ends at its first message stored after to_ms (store times only grow along a queue)
 * or at its end. A full page answers next_cursor (time-cursor.ts: the queue and QueueOffset to
 * go on from); the last page answers none. Entries whose record retention deleted are skipped.
 * Errors: empty topic, from_ms > to_ms, a bad cursor → INVALID_ARGUMENT; a topic this broker
 * neither knows nor stores, or an internal one → TOPIC_NOT_FOUND.
 */
import {
  ApogeeError,
  type WireMessagesByTimeRequest,
  type WireMessagesByTimeResponse,
  type WireStoredMessage,
} from '@apogee/protocol';
import type { MessageStore } from '@apogee/storage';
import { countArg, int64Arg, messageToWire } from './dispatch-wire';
import { decodeTimeCursor, encodeTimeCursor, type TimeCursor } from './time-cursor';

export const DEFAULT_TIME_PAGE = 32;
export const MAX_TIME_PAGE = 1000;
/** Consume-queue entries read per store call (one read each). */
const ENTRY_RUN = 128;

export type TimeStore = Pick<MessageStore, 'queueIds' | 'queueRange' | 'offsetAtTime' | 'entries' | 'read' | 'minPhysicalOffset'>;

export interface MessagesByTimeDeps {
  readonly store: TimeStore;
  readonly brokerName: string;
  /** Whether the broker's metadata knows the topic (it may have no message yet). */
  readonly knowsTopic: (topic: string) => boolean;
  readonly isHidden: (topic: string) => boolean;
}

export function messagesByTimeHandler(
  deps: MessagesByTimeDeps,
): (request: WireMessagesByTimeRequest) => WireMessagesByTimeResponse {
  return (request) => {
    const topic = request.topic ?? '';
    if (topic === '') throw new ApogeeError('INVALID_ARGUMENT', 'topic is required');
    const fromMs = int64Arg(request.from_ms, 'from_ms');
    const toMs = int64Arg(request.to_ms, 'to_ms') || Number.MAX_SAFE_INTEGER;
    if (fromMs > toMs) throw new ApogeeError('INVALID_ARGUMENT', `from_ms ${fromMs} is after to_ms ${toMs}`);
    const limit = countArg(request.limit, DEFAULT_TIME_PAGE, MAX_TIME_PAGE);
    const cursor = request.cursor ? decodeTimeCursor(request.cursor) : undefined;
    const queueIds = deps.store.queueIds(topic).sort((a, b) => a - b);
    if (deps.isHidden(topic) || (queueIds.length === 0 && !deps.knowsTopic(topic))) {
      throw new ApogeeError('TOPIC_NOT_FOUND', `topic ${JSON.stringify(topic)} is not on this broker`);
    }
    const messages: WireStoredMessage[] = [];
    for (const queueId of queueIds) {
      if (cursor !== undefined && queueId < cursor.queueId) continue;
      const start = cursor?.queueId === queueId ? cursor.queueOffset : deps.store.offsetAtTime(topic, queueId, fromMs);
      const stoppedAt = readQueue(deps.store, { topic, queueId, start, toMs }, limit, messages);
      if (stoppedAt !== undefined) return { messages, next_cursor: encodeTimeCursor(stoppedAt), broker_name: deps.brokerName };
    }
    return { messages, next_cursor: '', broker_name: deps.brokerName };
  };
}

interface QueueScan {
  readonly topic: string;
  readonly queueId: number;
  readonly start: number;
  readonly toMs: number;
}

/** Appends the queue's messages up to to_ms; returns where to go on if `out` filled up first. */
function readQueue(store: TimeStore, scan: QueueScan, limit: number, out: WireStoredMessage[]): TimeCursor | undefined {
  const { topic, queueId, toMs } = scan;
  const { min, max } = store.queueRange(topic, queueId);
  let offset = Math.max(scan.start, min);
  while (offset < max) {
    const entries = store.entries(topic, queueId, offset, Math.min(ENTRY_RUN, max - offset));
    if (entries.length === 0) return undefined;
    for (const entry of entries) {
      if (out.length >= limit) return { queueId, queueOffset: entry.queueOffset };
      offset = entry.queueOffset + 1;
      if (entry.physicalOffset < store.minPhysicalOffset) continue; // retention deleted it
      const message = store.read(entry.physicalOffset, entry.totalBytes);
      if (message.storeTimestampMs > toMs) return undefined;
      out.push(messageToWire(message));
    }
  }
  return undefined;
}
