/**
 * Receipt handles: the opaque token a POP delivery hands the client, which it sends back with
 * AckMessage and ChangeInvisibleDuration (rocketmq-v2-protocol.md §2.4). Written by
 * PopConsumption on every delivery and every invisibility change; read back on ack and change.
 *
 * Encoding: the fields below, big-endian, then base64url without padding (safe in gRPC strings
 * and logs, no separator to escape). Version 1:
 *
 * | offset | width | field            | meaning                                                   |
 * |-------:|------:|------------------|-----------------------------------------------------------|
 * |      0 |     1 | version          | HANDLE_VERSION (1)                                        |
 * |      1 |     1 | flags            | 0; reserved (bit 0 will mark "from the retry topic")      |
 * |      2 |     2 | deliveryAttempt  | 1 for the first delivery, +1 per redelivery               |
 * |      4 |     4 | queueId          | the message's queue                                       |
 * |      8 |     8 | queueOffset      | the message's QueueOffset in that queue                   |
 * |     16 |     8 | invisibleUntilMs | epoch ms when the message becomes visible again           |
 * |     24 |     6 | popId            | broker-generated id of this delivery (random 48 bits)     |
 * |     30 |     1 | B                | byte length of brokerName                                 |
 * |     31 |     B | brokerName       | UTF-8; lets any frontend route the ack                    |
 * |   31+B |     1 | T                | byte length of topic                                      |
 * |   32+B |     T | topic            | UTF-8                                                     |
 * | 32+B+T |     4 | crc              | CRC-32 of every byte before it                            |
 *
 * The consumer group is not in the handle: every request that carries a handle names the group,
 * and the in-flight record is looked up under it. Checks, cheapest first:
 *   malformed (base64, length, version, CRC, other broker)  → INVALID_RECEIPT_HANDLE
 *   invisibleUntilMs has passed                             → RECEIPT_HANDLE_EXPIRED
 *   no in-flight record with this popId (acked, redelivered,
 *   or replaced by ChangeInvisibleDuration since)           → RECEIPT_HANDLE_STALE
 * All three answer v2 INVALID_RECEIPT_HANDLE. The CRC catches corruption and casual edits, not
 * forgery; the popId check against broker state is what makes a forged handle useless.
 */
import { randomBytes } from 'node:crypto';
import { crc32 } from '@node-rs/crc32';
import { ApogeeError } from '@apogee/protocol';

export const HANDLE_VERSION = 1;
const AT_FLAGS = 1;
const AT_ATTEMPT = 2;
const AT_QUEUE_ID = 4;
const AT_QUEUE_OFFSET = 8;
const AT_INVISIBLE_UNTIL = 16;
const AT_POP_ID = 24;
const POP_ID_BYTES = 6;
const FIXED_BYTES = 30;
const NAME_LENGTH_BYTES = 1;
const CRC_BYTES = 4;
const MAX_NAME_BYTES = 255;
const MAX_ATTEMPT = 0xffff;
const MAX_QUEUE_ID = 0xffffffff;

export interface ReceiptHandle {
  readonly brokerName: string;
  readonly topic: string;
  readonly queueId: number;
  readonly queueOffset: number;
  readonly deliveryAttempt: number;
  readonly invisibleUntilMs: number;
  /** Unique per delivery of one message; the broker's in-flight record holds the current one. */
  readonly popId: number;
}

/**
 * A fresh delivery id: a counter started at a random point of the id space when the process
 * starts, so ids never repeat within a run and, across restarts, only by a 1-in-2^(8·POP_ID_BYTES)
 * chance per handle. (A crypto-random id per message cost ~5 µs each on the hot path.)
 */
const POP_ID_SPACE = 2 ** (8 * POP_ID_BYTES);
let lastPopId = randomBytes(POP_ID_BYTES).readUIntBE(0, POP_ID_BYTES);
export function newPopId(): number {
  lastPopId = (lastPopId + 1) % POP_ID_SPACE;
  return lastPopId;
}

export function encodeReceiptHandle(handle: ReceiptHandle): string {
  const broker = nameBytes(handle.brokerName, 'broker name');
  const topic = nameBytes(handle.topic, 'topic');
  checkRange(handle.deliveryAttempt, 1, MAX_ATTEMPT, 'deliveryAttempt');
  checkRange(handle.queueId, 0, MAX_QUEUE_ID, 'queueId');
  checkRange(handle.queueOffset, 0, Number.MAX_SAFE_INTEGER, 'queueOffset');
  checkRange(handle.invisibleUntilMs, 0, Number.MAX_SAFE_INTEGER, 'invisibleUntilMs');
  checkRange(handle.popId, 0, 2 ** (8 * POP_ID_BYTES) - 1, 'popId');
  const total = FIXED_BYTES + 2 * NAME_LENGTH_BYTES + broker.length + topic.length + CRC_BYTES;
  const buf = Buffer.alloc(total);
  buf.writeUInt8(HANDLE_VERSION, 0);
  buf.writeUInt8(0, AT_FLAGS);
  buf.writeUInt16BE(handle.deliveryAttempt, AT_ATTEMPT);
  buf.writeUInt32BE(handle.queueId, AT_QUEUE_ID);
  buf.writeBigInt64BE(BigInt(handle.queueOffset), AT_QUEUE_OFFSET);
  buf.writeBigInt64BE(BigInt(handle.invisibleUntilMs), AT_INVISIBLE_UNTIL);
  buf.writeUIntBE(handle.popId, AT_POP_ID, POP_ID_BYTES);
  let at = writeName(buf, FIXED_BYTES, broker);
  at = writeName(buf, at, topic);
  buf.writeUInt32BE(crc32(buf.subarray(0, at)), at);
  return buf.toString('base64url');
}

/** Decodes and checks the encoding; rejects with INVALID_RECEIPT_HANDLE saying what is wrong. */
export function decodeReceiptHandle(text: string): ReceiptHandle {
  const malformed = (why: string): never => {
    throw new ApogeeError('INVALID_RECEIPT_HANDLE', `Malformed receipt handle: ${why}; use the handle the broker returned`);
  };
  if (typeof text !== 'string' || text.length === 0) return malformed('it is empty');
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return malformed('it is not base64url');
  const buf = Buffer.from(text, 'base64url');
  if (buf.length < FIXED_BYTES + 2 * NAME_LENGTH_BYTES + CRC_BYTES) return malformed('it is too short');
  if (buf.readUInt8(0) !== HANDLE_VERSION) return malformed(`unknown version ${buf.readUInt8(0)}`);
  const crcAt = buf.length - CRC_BYTES;
  if (crc32(buf.subarray(0, crcAt)) !== buf.readUInt32BE(crcAt)) return malformed('checksum mismatch');
  const broker = readName(buf, FIXED_BYTES, crcAt);
  const topic = broker === undefined ? undefined : readName(buf, broker.end, crcAt);
  if (broker === undefined || topic === undefined || topic.end !== crcAt) return malformed('bad field lengths');
  const queueOffset = Number(buf.readBigInt64BE(AT_QUEUE_OFFSET));
  const invisibleUntilMs = Number(buf.readBigInt64BE(AT_INVISIBLE_UNTIL));
  const deliveryAttempt = buf.readUInt16BE(AT_ATTEMPT);
  if (queueOffset < 0 || invisibleUntilMs < 0 || deliveryAttempt < 1 || topic.value === '') {
    return malformed('field out of range');
  }
  return {
    brokerName: broker.value,
    topic: topic.value,
    queueId: buf.readUInt32BE(AT_QUEUE_ID),
    queueOffset,
    deliveryAttempt,
    invisibleUntilMs,
    popId: buf.readUIntBE(AT_POP_ID, POP_ID_BYTES),
  };
}

function nameBytes(name: string, what: string): Buffer {
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length > MAX_NAME_BYTES) throw new RangeError(`${what} is longer than ${MAX_NAME_BYTES} bytes`);
  return bytes;
}

function checkRange(value: number, min: number, max: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${what} ${value} is outside [${min}, ${max}]`);
  }
}

function writeName(buf: Buffer, at: number, bytes: Buffer): number {
  buf.writeUInt8(bytes.length, at);
  bytes.copy(buf, at + NAME_LENGTH_BYTES);
  return at + NAME_LENGTH_BYTES + bytes.length;
}

function readName(buf: Buffer, at: number, limit: number): { value: string; end: number } | undefined {
  if (at + NAME_LENGTH_BYTES > limit) return undefined;
  const end = at + NAME_LENGTH_BYTES + buf.readUInt8(at);
  if (end > limit) return undefined;
  return { value: buf.toString('utf8', at + NAME_LENGTH_BYTES, end), end };
}
