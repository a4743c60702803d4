import { crc32 } from '@node-rs/crc32';
import { StorageError } from '../errors';
import { readInt64, setInt64 } from './int64';
import { collectProperties, decodeProperties, PropertyTexts, writeProperties, type MessageProperties } from './properties';
import * as L from './record-layout';
import { utf8Bytes, writeBytes, writeUtf8 } from './utf8';

/** A byte position in the commit log. */
export type PhysicalOffset = number;
/** An entry number in a consume queue. */
export type QueueOffset = number;

/** What an appender hands to the store. */
export interface MessageInput {
  readonly topic: string;
  readonly queueId: number;
  readonly body: Buffer;
  readonly messageId: string;
  readonly bornTimestampMs: number;
  readonly flags?: number;
  readonly bornHost?: string;
  readonly keys?: readonly string[];
  readonly tag?: string;
  readonly properties?: MessageProperties;
}

/** A message as stored, decoded. `body` is a view into the read buffer (no copy). */
export interface StoredMessage {
  readonly topic: string;
  readonly queueId: number;
  readonly queueOffset: QueueOffset;
  readonly physicalOffset: PhysicalOffset;
  readonly totalBytes: number;
  readonly flags: number;
  readonly bornTimestampMs: number;
  readonly storeTimestampMs: number;
  readonly bornHost: string;
  readonly storeHost: string;
  readonly messageId: string;
  readonly keys: readonly string[];
  readonly tag: string;
  readonly properties: MessageProperties;
  readonly body: Buffer;
}

/** What every record of one store shares: the body limit and the store host, encoded once. */
export interface RecordContext {
  readonly maxBodyBytes: number;
  readonly storeHost: Buffer;
}

/**
 * A validated message with every field's encoded size known, ready to be written anywhere.
 * Hot paths reuse one instance (`new PreparedRecord()`, then `prepareRecord(..., into)`), since
 * a record is prepared and encoded in one synchronous step.
 */
export class PreparedRecord {
  input!: MessageInput;
  topic: Buffer = EMPTY;
  keys = '';
  keysBytes = 0;
  tag = '';
  tagBytes = 0;
  readonly properties = new PropertyTexts();
  propertiesBytes = 0;
  bornHost = '';
  bornHostBytes = 0;
  messageIdBytes = 0;
  storeHost: Buffer = EMPTY;
  totalBytes = 0;
}

const EMPTY = Buffer.alloc(0);
const TOPIC_PATTERN = /^[%|a-zA-Z0-9_-]+$/;
const MAX_TOPIC_BYTES = 127;
const MAX_MESSAGE_ID_BYTES = 128;
const MAX_INT32 = 0x7fffffff;
const TWO_8 = 0x100;
const TWO_16 = 0x10000;
const TWO_24 = 0x1000000;
/** magic, version and recordType 0 as one big-endian u32 at AT_MAGIC. */
const MESSAGE_PREFIX_WORD = (L.RECORD_MAGIC * TWO_16 + L.RECORD_VERSION * TWO_8 + L.RECORD_TYPE_MESSAGE) >>> 0;
// Module-local copies: reading them is a plain variable load in every build.
const { AT_TOTAL_BYTES, AT_MAGIC, AT_CRC, CRC_FROM, AT_QUEUE_ID, AT_FLAGS, AT_QUEUE_OFFSET, AT_PHYSICAL_OFFSET } = L;
const { AT_BORN_TIMESTAMP, AT_STORE_TIMESTAMP, AT_BODY_BYTES, AT_PROPERTIES_BYTES, AT_TOPIC_BYTES, AT_MESSAGE_ID_BYTES } = L;
const { FIXED_BYTES } = L;

/** Topic names already validated, with their encoded bytes (bounded: cleared when full). */
const topicCache = new Map<string, Buffer>();
const TOPIC_CACHE_MAX = 10_000;

function invalid(message: string): StorageError {
  return new StorageError('INVALID_MESSAGE', message);
}

function checkShortString(name: string, value: string, maxBytes: number): number {
  if (value.length === 0) return 0;
  const bytes = utf8Bytes(value);
  if (bytes > maxBytes) throw invalid(`${name} is ${bytes} bytes; at most ${maxBytes} are allowed`);
  return bytes;
}

function topicBytesOf(topic: string): Buffer {
  const cached = topicCache.get(topic);
  if (cached) return cached;
  if (!TOPIC_PATTERN.test(topic) || topic.length > MAX_TOPIC_BYTES) {
    throw new StorageError(
      'INVALID_NAME',
      `topic "${topic}" is invalid: use 1-${MAX_TOPIC_BYTES} characters of a-z A-Z 0-9 _ - % |`,
    );
  }
  if (topicCache.size >= TOPIC_CACHE_MAX) topicCache.clear();
  const bytes = Buffer.from(topic, 'latin1');
  topicCache.set(topic, bytes);
  return bytes;
}

function joinKeys(keys: readonly string[] | undefined): string {
  if (!keys || keys.length === 0) return '';
  for (const key of keys) {
    if (key.length === 0 || key.includes(L.KEY_SEPARATOR)) {
      throw invalid(`message key ${JSON.stringify(key)} is invalid: keys are non-empty and contain no \\u0001`);
    }
  }
  return keys.length === 1 ? keys[0] : keys.join(L.KEY_SEPARATOR);
}

/** Validates a message against the limits and computes its encoded sizes into `into`. Throws StorageError. */
export function prepareRecord(input: MessageInput, context: RecordContext, into = new PreparedRecord()): PreparedRecord {
  const topic = topicBytesOf(input.topic);
  if (!Number.isInteger(input.queueId) || input.queueId < 0 || input.queueId > MAX_INT32) {
    throw invalid(`queueId ${input.queueId} is invalid: use an integer from 0`);
  }
  if (!Number.isSafeInteger(input.bornTimestampMs) || input.bornTimestampMs < 0) {
    throw invalid(`bornTimestampMs ${input.bornTimestampMs} is invalid: use milliseconds since the epoch`);
  }
  if (input.body.length > context.maxBodyBytes) {
    throw new StorageError(
      'MESSAGE_TOO_LARGE',
      `message body is ${input.body.length} bytes; the limit is ${context.maxBodyBytes} bytes`,
    );
  }
  const r = into;
  r.input = input;
  r.topic = topic;
  r.tag = input.tag ?? '';
  r.keys = joinKeys(input.keys);
  r.bornHost = input.bornHost ?? '';
  r.tagBytes = checkShortString('tag', r.tag, L.MAX_U8);
  r.bornHostBytes = checkShortString('bornHost', r.bornHost, L.MAX_U8);
  r.messageIdBytes = checkShortString('messageId', input.messageId, MAX_MESSAGE_ID_BYTES);
  r.keysBytes = checkShortString('keys', r.keys, L.MAX_U16);
  r.propertiesBytes = collectProperties(input.properties, r.properties);
  if (r.propertiesBytes > L.MAX_U16) throw invalid(`properties are ${r.propertiesBytes} bytes; at most ${L.MAX_U16} are allowed`);
  r.storeHost = context.storeHost;
  r.totalBytes =
    FIXED_BYTES +
    topic.length +
    r.tagBytes +
    r.bornHostBytes +
    r.storeHost.length +
    r.messageIdBytes +
    r.keysBytes +
    r.propertiesBytes +
    input.body.length;
  return r;
}

/**
 * Writes one record at `at` in `out`; returns the offset just after it. The header's small
 * fields are packed into whole u32 writes; empty strings cost nothing. `withCrc` false leaves the
 * CRC field for the caller to stamp (the commit log's write thread does).
 */
export function encodeRecord(
  out: Buffer,
  at: number,
  r: PreparedRecord,
  queueOffset: QueueOffset,
  physicalOffset: PhysicalOffset,
  storeTimestampMs: number,
  withCrc = true,
): number {
  const m = r.input;
  const dv = dataViewOf(out);
  dv.setUint32(at + AT_TOTAL_BYTES, r.totalBytes);
  dv.setUint32(at + AT_MAGIC, MESSAGE_PREFIX_WORD);
  dv.setUint32(at + AT_QUEUE_ID, m.queueId);
  dv.setInt32(at + AT_FLAGS, m.flags ?? 0);
  setInt64(dv, at + AT_QUEUE_OFFSET, queueOffset);
  setInt64(dv, at + AT_PHYSICAL_OFFSET, physicalOffset);
  setInt64(dv, at + AT_BORN_TIMESTAMP, m.bornTimestampMs);
  setInt64(dv, at + AT_STORE_TIMESTAMP, storeTimestampMs);
  dv.setUint32(at + AT_BODY_BYTES, m.body.length);
  dv.setUint32(at + AT_PROPERTIES_BYTES, r.propertiesBytes * TWO_16 + r.keysBytes);
  dv.setUint32(at + AT_TOPIC_BYTES, r.topic.length * TWO_24 + r.tagBytes * TWO_16 + r.bornHostBytes * TWO_8 + r.storeHost.length);
  dv.setUint32(at + AT_MESSAGE_ID_BYTES, r.messageIdBytes * TWO_24); // + 3 reserved zero bytes
  let o = writeBytes(out, at + FIXED_BYTES, r.topic);
  o = writeUtf8(out, o, r.bornHost);
  o = writeBytes(out, o, r.storeHost);
  o = writeUtf8(out, o, m.messageId);
  o = writeUtf8(out, o, r.keys);
  o = writeUtf8(out, o, r.tag);
  o = writeProperties(out, o, r.properties);
  out.set(m.body, o);
  o += m.body.length;
  if (withCrc) dv.setUint32(at + AT_CRC, crc32(out.subarray(at + CRC_FROM, o)));
  return o;
}

/**
 * A DataView of `out`, kept for the buffer used last: records go into a few pooled batch buffers
 * in turn, so a view is made once per buffer switch. Its big-endian stores are inlined by V8.
 */
let viewed: Buffer | null = null;
let view: DataView = new DataView(new ArrayBuffer(0));
function dataViewOf(out: Buffer): DataView {
  if (out !== viewed) {
    view = new DataView(out.buffer, out.byteOffset, out.length);
    viewed = out;
  }
  return view;
}

/** Writes a segment-end filler of `bytes` (≥ PREFIX_BYTES) at `at`. */
export function encodeFiller(out: Buffer, at: number, bytes: number): void {
  out.writeInt32BE(bytes, at + L.AT_TOTAL_BYTES);
  out.writeUInt16BE(L.RECORD_MAGIC, at + L.AT_MAGIC);
  out.writeUInt8(L.RECORD_VERSION, at + L.AT_VERSION);
  out.writeUInt8(L.RECORD_TYPE_FILLER, at + L.AT_RECORD_TYPE);
}

/** What the 8-byte prefix at a position says. */
export type PrefixKind =
  | { kind: 'message'; totalBytes: number }
  | { kind: 'filler'; totalBytes: number }
  | { kind: 'empty' }
  | { kind: 'bad'; reason: string };

export function readPrefix(buf: Buffer, at: number): PrefixKind {
  const totalBytes = buf.readInt32BE(at + L.AT_TOTAL_BYTES);
  if (totalBytes === 0 && buf.readUInt32BE(at + L.AT_MAGIC) === 0) return { kind: 'empty' };
  if (buf.readUInt16BE(at + L.AT_MAGIC) !== L.RECORD_MAGIC) return { kind: 'bad', reason: 'bad magic' };
  if (buf.readUInt8(at + L.AT_VERSION) !== L.RECORD_VERSION) return { kind: 'bad', reason: 'unknown version' };
  const type = buf.readUInt8(at + L.AT_RECORD_TYPE);
  if (type === L.RECORD_TYPE_FILLER) {
    return totalBytes >= L.PREFIX_BYTES ? { kind: 'filler', totalBytes } : { kind: 'bad', reason: 'bad filler size' };
  }
  if (type !== L.RECORD_TYPE_MESSAGE) return { kind: 'bad', reason: 'unknown record type' };
  if (totalBytes < L.FIXED_BYTES) return { kind: 'bad', reason: 'record shorter than its header' };
  return { kind: 'message', totalBytes };
}

/** Checks a whole message record held in `buf` at `at`; returns a reason when it is not intact. */
export function checkRecord(buf: Buffer, at: number, expectedOffset: PhysicalOffset): string | null {
  const total = buf.readInt32BE(at + L.AT_TOTAL_BYTES);
  if (crc32(buf.subarray(at + L.CRC_FROM, at + total)) !== buf.readUInt32BE(at + L.AT_CRC)) return 'crc mismatch';
  if (readInt64(buf, at + L.AT_PHYSICAL_OFFSET) !== expectedOffset) return 'physical offset mismatch';
  const variable =
    buf.readUInt8(at + L.AT_TOPIC_BYTES) +
    buf.readUInt8(at + L.AT_TAG_BYTES) +
    buf.readUInt8(at + L.AT_BORN_HOST_BYTES) +
    buf.readUInt8(at + L.AT_STORE_HOST_BYTES) +
    buf.readUInt8(at + L.AT_MESSAGE_ID_BYTES) +
    buf.readUInt16BE(at + L.AT_KEYS_BYTES) +
    buf.readUInt16BE(at + L.AT_PROPERTIES_BYTES) +
    buf.readUInt32BE(at + L.AT_BODY_BYTES);
  return L.FIXED_BYTES + variable === total ? null : 'field lengths do not add up';
}

/** The fields the dispatcher needs, without decoding strings other than the topic and tag. */
export interface DispatchInfo {
  readonly topic: string;
  readonly queueId: number;
  readonly queueOffset: QueueOffset;
  readonly physicalOffset: PhysicalOffset;
  readonly totalBytes: number;
  readonly tag: string;
  readonly storeTimestampMs: number;
}

export function readStoreTimestamp(buf: Buffer, at: number): number {
  return readInt64(buf, at + L.AT_STORE_TIMESTAMP);
}

export function decodeDispatchInfo(buf: Buffer, at: number): DispatchInfo {
  const topicBytes = buf.readUInt8(at + L.AT_TOPIC_BYTES);
  const topicAt = at + L.FIXED_BYTES;
  const tagAt =
    topicAt +
    topicBytes +
    buf.readUInt8(at + L.AT_BORN_HOST_BYTES) +
    buf.readUInt8(at + L.AT_STORE_HOST_BYTES) +
    buf.readUInt8(at + L.AT_MESSAGE_ID_BYTES) +
    buf.readUInt16BE(at + L.AT_KEYS_BYTES);
  return {
    topic: buf.toString('latin1', topicAt, topicAt + topicBytes),
    queueId: buf.readInt32BE(at + L.AT_QUEUE_ID),
    queueOffset: readInt64(buf, at + L.AT_QUEUE_OFFSET),
    physicalOffset: readInt64(buf, at + L.AT_PHYSICAL_OFFSET),
    totalBytes: buf.readInt32BE(at + L.AT_TOTAL_BYTES),
    tag: buf.toString('utf8', tagAt, tagAt + buf.readUInt8(at + L.AT_TAG_BYTES)),
    storeTimestampMs: readInt64(buf, at + L.AT_STORE_TIMESTAMP),
  };
}

/** Decodes a whole record (already checked with checkRecord). The body is a view into `buf`. */
export function decodeRecord(buf: Buffer, at: number): StoredMessage {
  let o = at + L.FIXED_BYTES;
  const take = (bytes: number, encoding: BufferEncoding = 'utf8'): string => {
    const s = buf.toString(encoding, o, o + bytes);
    o += bytes;
    return s;
  };
  const topic = take(buf.readUInt8(at + L.AT_TOPIC_BYTES), 'latin1');
  const bornHost = take(buf.readUInt8(at + L.AT_BORN_HOST_BYTES));
  const storeHost = take(buf.readUInt8(at + L.AT_STORE_HOST_BYTES));
  const messageId = take(buf.readUInt8(at + L.AT_MESSAGE_ID_BYTES));
  const keys = take(buf.readUInt16BE(at + L.AT_KEYS_BYTES));
  const tag = take(buf.readUInt8(at + L.AT_TAG_BYTES));
  const properties = take(buf.readUInt16BE(at + L.AT_PROPERTIES_BYTES));
  const bodyBytes = buf.readUInt32BE(at + L.AT_BODY_BYTES);
  return {
    topic,
    queueId: buf.readInt32BE(at + L.AT_QUEUE_ID),
    queueOffset: readInt64(buf, at + L.AT_QUEUE_OFFSET),
    physicalOffset: readInt64(buf, at + L.AT_PHYSICAL_OFFSET),
    totalBytes: buf.readInt32BE(at + L.AT_TOTAL_BYTES),
    flags: buf.readInt32BE(at + L.AT_FLAGS),
    bornTimestampMs: readInt64(buf, at + L.AT_BORN_TIMESTAMP),
    storeTimestampMs: readInt64(buf, at + L.AT_STORE_TIMESTAMP),
    bornHost,
    storeHost,
    messageId,
    keys: keys.length === 0 ? [] : keys.split(L.KEY_SEPARATOR),
    tag,
    properties: decodeProperties(properties),
    body: buf.subarray(o, o + bodyBytes),
  };
}

/** What a follower of the log indexes: the dispatch fields plus the message id and the keys (no body). */
export interface RecordSummary extends DispatchInfo {
  readonly messageId: string;
  readonly keys: readonly string[];
}

/** Decodes a checked record's summary: skips the hosts, properties and body (cheaper than decodeRecord). */
export function decodeRecordSummary(buf: Buffer, at: number): RecordSummary {
  const messageIdAt =
    at + L.FIXED_BYTES + buf.readUInt8(at + L.AT_TOPIC_BYTES) + buf.readUInt8(at + L.AT_BORN_HOST_BYTES) + buf.readUInt8(at + L.AT_STORE_HOST_BYTES);
  const keysAt = messageIdAt + buf.readUInt8(at + L.AT_MESSAGE_ID_BYTES);
  const keysBytes = buf.readUInt16BE(at + L.AT_KEYS_BYTES);
  return {
    ...decodeDispatchInfo(buf, at),
    messageId: buf.toString('utf8', messageIdAt, keysAt),
    keys: keysBytes === 0 ? [] : buf.toString('utf8', keysAt, keysAt + keysBytes).split(L.KEY_SEPARATOR),
  };
}
