/**
 * AckMessage's request decoder and response encoder, written by hand like send-codec.ts (the
 * same objects and bytes as proto-loader's; ack-codec.spec.ts checks both): a drain acks every
 * message, so proto-loader's conversion of the receipt handles was a visible share of it.
 *
 * Field numbers (rocketmq-client-nodejs proto/apache/rocketmq/v2, never copied here):
 * AckMessageRequest group 1, topic 2, entries 3 · AckMessageEntry message_id 1, receipt_handle 2,
 * lite_topic 3 · AckMessageResponse status 1, entries 2 · AckMessageResultEntry message_id 1,
 * receipt_handle 2, status 3.
 */
import { lenFieldBytes, ProtoReader } from './proto-wire';
import { encodeStatusAndEntries, resource, statusSize, stringSize, sub, writeStatus, writeString, type Fields } from './v2-codec';
import type { WireAckMessageRequest, WireAckMessageResponse, WireAckMessageResultEntry } from './v2-wire';

export function decodeAckMessageRequest(buf: Buffer): WireAckMessageRequest {
  const r = new ProtoReader(buf);
  const m: Fields = {};
  const entries: Fields[] = [];
  while (!r.done) {
    const key = r.key();
    if (key === 0x0a) m.group = sub(r, resource);
    else if (key === 0x12) m.topic = sub(r, resource);
    else if (key === 0x1a) entries.push(sub(r, ackEntry));
    else r.skip(key);
  }
  if (entries.length > 0) m.entries = entries;
  return m as WireAckMessageRequest;
}

function ackEntry(r: ProtoReader): Fields {
  const m: Fields = {};
  while (!r.done) {
    const key = r.key();
    if (key === 0x0a) m.message_id = r.string();
    else if (key === 0x12) m.receipt_handle = r.string();
    else if (key === 0x1a) m.lite_topic = r.string();
    else r.skip(key);
  }
  return m;
}

export function encodeAckMessageResponse(response: WireAckMessageResponse): Buffer {
  return encodeStatusAndEntries(response.status, response.entries, resultSize, (w, entry) => {
    writeString(w, 0x0a, entry.message_id);
    writeString(w, 0x12, entry.receipt_handle);
    if (entry.status !== undefined) writeStatus(w, 0x1a, entry.status, statusSize(entry.status));
  });
}

function resultSize(entry: WireAckMessageResultEntry): number {
  return (
    stringSize(entry.message_id) +
    stringSize(entry.receipt_handle) +
    (entry.status === undefined ? 0 : lenFieldBytes(statusSize(entry.status)))
  );
}
