/**
 * SendMessage's request decoder and response encoder, written by hand (NODE-PERFORMANCE.md §5b:
 * proto-loader's object conversion costs more per message than the rest of the send path). The
 * decoder yields exactly the object proto-loader's requestDeserialize makes with
 * PROTO_LOADER_OPTIONS (snake_case, int64 as decimal strings, enums by name — an unknown enum
 * number stays a number — and only fields present on the wire), so handlers and the FIFO
 * forwarder see no difference; the encoder writes the bytes proto-loader's responseSerialize
 * writes (every field the object sets, in field-number order). send-codec.spec.ts checks both
 * against proto-loader. The body is a view into the request buffer (the store copies it).
 *
 * Field numbers (rocketmq-client-nodejs proto/apache/rocketmq/v2, never copied here):
 * SendMessageRequest messages 1 · Message topic 1, user_properties 2 (map), system_properties 3,
 * body 4 · Resource resource_namespace 1, name 2 · SystemProperties tag 1, keys 2, message_id 3,
 * body_digest 4 (Digest type 1, checksum 2), body_encoding 5, message_type 6, born_timestamp 7,
 * born_host 8, store_timestamp 9, store_host 10, delivery_timestamp 11, receipt_handle 12,
 * queue_id 13, queue_offset 14, invisible_duration 15, delivery_attempt 16, message_group 17,
 * trace_context 18, orphaned_transaction_recovery_duration 19, dead_letter_queue 20 (topic 1,
 * message_id 2), lite_topic 21, priority 22 · Timestamp / Duration seconds 1, nanos 2 ·
 * SendMessageResponse status 1, entries 2 · SendResultEntry status 1, message_id 2,
 * transaction_id 3, offset 4, recall_handle 5 · Status code 1, message 2.
 */
import { lenFieldBytes, ProtoReader, varintBytes, WIRE_LEN } from './proto-wire';
import { encodeStatusAndEntries, enumName, enumsOnce, resource, statusSize, stringSize, sub, writeStatus, writeString, type Fields } from './v2-codec';
import type { WireSendMessageRequest, WireSendMessageResponse, WireSendResultEntry } from './v2-wire';


/** SendMessageRequest bytes → the proto-loader object. Throws on malformed input (grpc-js answers INTERNAL). */
export function decodeSendMessageRequest(buf: Buffer): WireSendMessageRequest {
  const r = new ProtoReader(buf);
  const messages: Fields[] = [];
  while (!r.done) {
    const key = r.key();
    if (key === 0x0a) messages.push(sub(r, message));
    else r.skip(key);
  }
  return (messages.length > 0 ? { messages } : {}) as WireSendMessageRequest;
}


function message(r: ProtoReader): Fields {
  const m: Fields = {};
  let userProperties: Record<string, string> | undefined;
  while (!r.done) {
    const key = r.key();
    if (key === 0x0a) m.topic = sub(r, resource);
    else if (key === 0x12) {
      const [k, v] = mapEntry(r);
      (userProperties ??= {})[k] = v;
    } else if (key === 0x1a) m.system_properties = sub(r, systemProperties);
    else if (key === 0x22) m.body = r.bytes();
    else r.skip(key);
  }
  if (userProperties !== undefined) m.user_properties = userProperties;
  return m;
}


/** A map<string, string> entry (absent key or value: ''). */
function mapEntry(r: ProtoReader): [string, string] {
  const start = r.lenStart();
  const e = new ProtoReader(r.buf, start, r.pos);
  let k = '';
  let v = '';
  while (!e.done) {
    const key = e.key();
    if (key === 0x0a) k = e.string();
    else if (key === 0x12) v = e.string();
    else e.skip(key);
  }
  return [k, v];
}

function time(r: ProtoReader): Fields {
  const m: Fields = {};
  while (!r.done) {
    const key = r.key();
    if (key === 0x08) m.seconds = r.int64String();
    else if (key === 0x10) m.nanos = r.int32();
    else r.skip(key);
  }
  return m;
}

function digest(r: ProtoReader): Fields {
  const m: Fields = {};
  while (!r.done) {
    const key = r.key();
    if (key === 0x08) m.type = enumName(enumsOnce().digestType, r.uint32());
    else if (key === 0x12) m.checksum = r.string();
    else r.skip(key);
  }
  return m;
}

function deadLetterQueue(r: ProtoReader): Fields {
  const m: Fields = {};
  while (!r.done) {
    const key = r.key();
    if (key === 0x0a) m.topic = r.string();
    else if (key === 0x12) m.message_id = r.string();
    else r.skip(key);
  }
  return m;
}

/** SystemProperties LEN fields by field number: how each is read and under which name. */
const SYSTEM_LEN_FIELDS: ReadonlyMap<number, { readonly name: string; readonly read: (r: ProtoReader) => unknown }> = new Map([
  [1, { name: 'tag', read: (r: ProtoReader) => r.string() }],
  [3, { name: 'message_id', read: (r: ProtoReader) => r.string() }],
  [4, { name: 'body_digest', read: (r: ProtoReader) => sub(r, digest) }],
  [7, { name: 'born_timestamp', read: (r: ProtoReader) => sub(r, time) }],
  [8, { name: 'born_host', read: (r: ProtoReader) => r.string() }],
  [9, { name: 'store_timestamp', read: (r: ProtoReader) => sub(r, time) }],
  [10, { name: 'store_host', read: (r: ProtoReader) => r.string() }],
  [11, { name: 'delivery_timestamp', read: (r: ProtoReader) => sub(r, time) }],
  [12, { name: 'receipt_handle', read: (r: ProtoReader) => r.string() }],
  [15, { name: 'invisible_duration', read: (r: ProtoReader) => sub(r, time) }],
  [17, { name: 'message_group', read: (r: ProtoReader) => r.string() }],
  [18, { name: 'trace_context', read: (r: ProtoReader) => r.string() }],
  [19, { name: 'orphaned_transaction_recovery_duration', read: (r: ProtoReader) => sub(r, time) }],
  [20, { name: 'dead_letter_queue', read: (r: ProtoReader) => sub(r, deadLetterQueue) }],
  [21, { name: 'lite_topic', read: (r: ProtoReader) => r.string() }],
]);

function systemProperties(r: ProtoReader): Fields {
  const m: Fields = {};
  const keys: string[] = [];
  const { encoding, messageType } = enumsOnce();
  while (!r.done) {
    const key = r.key();
    const field = key >>> 3;
    const len = (key & 7) === WIRE_LEN ? SYSTEM_LEN_FIELDS.get(field) : undefined;
    if (len !== undefined) m[len.name] = len.read(r);
    else if (key === 0x12) keys.push(r.string());
    else if (key === 0x28) m.body_encoding = enumName(encoding, r.uint32());
    else if (key === 0x30) m.message_type = enumName(messageType, r.uint32());
    else if (key === 0x68) m.queue_id = r.int32();
    else if (key === 0x70) m.queue_offset = r.int64String();
    else if (key === 0x80) m.delivery_attempt = r.int32();
    else if (key === 0xb0) m.priority = r.int32();
    else r.skip(key);
  }
  if (keys.length > 0) m.keys = keys;
  return m;
}

function entrySize(entry: WireSendResultEntry): number {
  return (
    (entry.status === undefined ? 0 : lenFieldBytes(statusSize(entry.status))) +
    stringSize(entry.message_id) +
    stringSize(entry.transaction_id) +
    (entry.offset === undefined ? 0 : 1 + varintBytes(Number(entry.offset))) +
    stringSize((entry as { recall_handle?: string }).recall_handle)
  );
}

/** SendMessageResponse object → the bytes proto-loader's responseSerialize writes for it. */
export function encodeSendMessageResponse(response: WireSendMessageResponse): Buffer {
  return encodeStatusAndEntries(response.status, response.entries, entrySize, (w, entry) => {
    if (entry.status !== undefined) writeStatus(w, 0x0a, entry.status, statusSize(entry.status));
    writeString(w, 0x12, entry.message_id);
    writeString(w, 0x1a, entry.transaction_id);
    if (entry.offset !== undefined) {
      w.byte(0x20);
      w.varint(Number(entry.offset));
    }
    writeString(w, 0x2a, (entry as { recall_handle?: string }).recall_handle);
  });
}


