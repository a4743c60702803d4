/**
 * BrokerDispatch wire mapping (proto/apogee/broker/v1/dispatch.proto): request fields checked and
 * parsed (int64 arrive as decimal strings), and the store's records and messages as wire objects
 * (int64 sent as numbers: every offset and timestamp is < 2^53).
 */
import {
  ApogeeError,
  type WireDispatchEntry,
  type WireInt64,
  type WireStoredMessage,
} from '@apogee/protocol';
import type { RecordSummary, StoredMessage } from '@apogee/storage';

/** A non-negative int64 field as a number: absent means `fallback`; INVALID_ARGUMENT otherwise. */
export function int64Arg(value: WireInt64 | undefined, name: string, fallback = 0): number {
  if (value === undefined || value === '') return fallback;
  const n = typeof value === 'number' ? value : /^-?\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new ApogeeError('INVALID_ARGUMENT', `${name} ${String(value)} is invalid: use an integer from 0 to 2^53 - 1`);
  }
  return n;
}

/** A uint32 count: absent or 0 means `fallback`; above `max` is capped to `max`. */
export function countArg(value: number | undefined, fallback: number, max: number): number {
  if (value === undefined || value === 0) return fallback;
  return Math.min(value, max);
}

export function entryToWire(r: RecordSummary): WireDispatchEntry {
  return {
    topic: r.topic,
    queue_id: r.queueId,
    queue_offset: r.queueOffset,
    physical_offset: r.physicalOffset,
    total_bytes: r.totalBytes,
    message_id: r.messageId,
    keys: r.keys as string[],
    tag: r.tag,
    store_timestamp_ms: r.storeTimestampMs,
  };
}

export function messageToWire(m: StoredMessage): WireStoredMessage {
  return {
    topic: m.topic,
    queue_id: m.queueId,
    queue_offset: m.queueOffset,
    physical_offset: m.physicalOffset,
    message_id: m.messageId,
    keys: m.keys as string[],
    tag: m.tag,
    properties: m.properties as Record<string, string>,
    body: m.body,
    born_timestamp_ms: m.bornTimestampMs,
    store_timestamp_ms: m.storeTimestampMs,
    born_host: m.bornHost,
    store_host: m.storeHost,
  };
}
