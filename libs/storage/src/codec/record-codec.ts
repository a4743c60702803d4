import { crc32 } from 'node:zlib';
import { StorageError } from '../errors';
import { readInt64, writeInt64 } from './int64';
import { decodeProperties, encodeProperties, type MessageProperties } from './properties';
import * as L from './record-layout';

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

export interface RecordLimits {
  readonly maxBodyBytes: number;
}

/** Where and when a record lands: decided by the commit log at append time. */
export interface Placement {
  readonly queueOffset: QueueOffset;
  readonly physicalOffset: PhysicalOffset;
  readonly storeTimestampMs: number;
  readonly storeHost: string;
}

/** A validated message with its encoded sizes known, ready to be written anywhere. */
export interface PreparedRecord {
  readonly input: MessageInput;
  readonly keys: string;
  readonly tag: string;
  readonly properties: string;
  readonly bornHost: string;
  readonly totalBytesWithoutStoreHost: number;
}

const TOPIC_PATTERN = /^[%|a-zA-Z0-9_-]+$/;
const MAX_TOPIC_BYTES = 127;
const MAX_MESSAGE_ID_BYTES = 128;
const MAX_INT32 = 0x7fffffff;

function invalid(message: string): StorageError {
  return new StorageError('INVALID_MESSAGE', message);
}

function checkShortString(name: string, value: string, maxBytes: number): number {
  const bytes = Buffer.byteLength(value);
  if (bytes > maxBytes) throw invalid(`${name} is ${bytes} bytes; at most ${maxBytes} are allowed`);
  return bytes;
}

function checkTopic(topic: string): void {
  if (!TOPIC_PATTERN.test(topic) || topic.length > MAX_TOPIC_BYTES) {
    throw new StorageError(
      'INVALID_NAME',
      `topic "${topic}" is invalid: use 1-${MAX_TOPIC_BYTES} characters of a-z A-Z 0-9 _ - % |`,
    );
  }
}

function joinKeys(keys: readonly string[] | undefined): string {
  if (!keys || keys.length === 0) return '';
  for (const key of keys) {
    if (key.length === 0 || key.includes(L.KEY_SEPARATOR)) {
      throw invalid(`message key ${JSON.stringify(key)} is invalid: keys are non-empty and contain no \\u0001`);
    }
  }
  return keys.join(L.KEY_SEPARATOR);
}

/** Validates a message against the limits and computes its encoded sizes. Throws StorageError. */
export function prepareRecord(input: MessageInput, limits: RecordLimits): PreparedRecord {
  checkTopic(input.topic);
  if (!Number.isInteger(input.queueId) || input.queueId < 0 || input.queueId > MAX_INT32) {
    throw invalid(`queueId ${input.queueId} is invalid: use an integer from 0`);
  }
  if (input.body.length > limits.maxBodyBytes) {
    throw new StorageError(
      'MESSAGE_TOO_LARGE',
      `message body is ${input.body.length} bytes; the limit is ${limits.maxBodyBytes} bytes`,
    );
  }
  const tag = input.tag ?? '';
  const keys = joinKeys(input.keys);
  const properties = encodeProperties(input.properties);
  const bornHost = input.bornHost ?? '';
  const variable =
    input.topic.length +
    checkShortString('tag', tag, L.MAX_U8) +
    checkShortString('bornHost', bornHost, L.MAX_U8) +
    checkShortString('messageId', input.messageId, MAX_MESSAGE_ID_BYTES) +
    checkShortString('keys', keys, L.MAX_U16) +
    checkShortString('properties', properties, L.MAX_U16) +
    input.body.length;
  return { input, keys, tag, properties, bornHost, totalBytesWithoutStoreHost: L.FIXED_BYTES + variable };
}

/** Encoded size of a prepared record once the store host is known. */
export function recordBytes(prepared: PreparedRecord, storeHost: string): number {
  return prepared.totalBytesWithoutStoreHost + Buffer.byteLength(storeHost);
}

/** Writes one record at `at` in `out`; returns the offset just after it. */
export function encodeRecord(out: Buffer, at: number, prepared: PreparedRecord, place: Placement): number {
  const m = prepared.input;
  const total = recordBytes(prepared, place.storeHost);
  out.writeInt32BE(total, at + L.AT_TOTAL_BYTES);
  out.writeUInt16BE(L.RECORD_MAGIC, at + L.AT_MAGIC);
  out.writeUInt8(L.RECORD_VERSION, at + L.AT_VERSION);
  out.writeUInt8(L.RECORD_TYPE_MESSAGE, at + L.AT_RECORD_TYPE);
  out.writeInt32BE(m.queueId, at + L.AT_QUEUE_ID);
  out.writeInt32BE(m.flags ?? 0, at + L.AT_FLAGS);
  writeInt64(out, place.queueOffset, at + L.AT_QUEUE_OFFSET);
  writeInt64(out, place.physicalOffset, at + L.AT_PHYSICAL_OFFSET);
  writeInt64(out, m.bornTimestampMs, at + L.AT_BORN_TIMESTAMP);
  writeInt64(out, place.storeTimestampMs, at + L.AT_STORE_TIMESTAMP);
  out.writeUInt32BE(m.body.length, at + L.AT_BODY_BYTES);
  out.writeUInt16BE(Buffer.byteLength(prepared.properties), at + L.AT_PROPERTIES_BYTES);
  out.writeUInt16BE(Buffer.byteLength(prepared.keys), at + L.AT_KEYS_BYTES);
  out.writeUInt8(m.topic.length, at + L.AT_TOPIC_BYTES);
  out.writeUInt8(Buffer.byteLength(prepared.tag), at + L.AT_TAG_BYTES);
  out.writeUInt8(Buffer.byteLength(prepared.bornHost), at + L.AT_BORN_HOST_BYTES);
  out.writeUInt8(Buffer.byteLength(place.storeHost), at + L.AT_STORE_HOST_BYTES);
  out.writeUInt8(Buffer.byteLength(m.messageId), at + L.AT_MESSAGE_ID_BYTES);
  out.fill(0, at + L.AT_MESSAGE_ID_BYTES + 1, at + L.FIXED_BYTES);
  let o = at + L.FIXED_BYTES;
  o += out.write(m.topic, o, 'latin1');
  o += out.write(prepared.bornHost, o);
  o += out.write(place.storeHost, o);
  o += out.write(m.messageId, o);
  o += out.write(prepared.keys, o);
  o += out.write(prepared.tag, o);
  o += out.write(prepared.properties, o);
  o += m.body.copy(out, o);
  out.writeUInt32BE(crc32(out.subarray(at + L.CRC_FROM, o)), at + L.AT_CRC);
  return o;
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
