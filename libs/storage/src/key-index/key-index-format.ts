/**
 * Key-index file layout (spec: docs/formats/key-index.md; this header is the normative copy).
 *
 * A persistent hash index from a key (topic + key, or a message id) to candidate locations of
 * messages. Written by one KeyIndex (the index-service), read by its queries. Files live in one
 * folder, named `<20-digit first entry number>.idx`, where the entry number counts every entry
 * ever appended to the index (retired files included). A file is:
 *
 *   header (64 B) | slot table (slotCount × 4 B) | entries (entryCapacity × 32 B, appended)
 *
 * All integers big-endian; 8-byte values are two 32-bit halves (codec/int64.ts) below 2^53.
 *
 * Header:
 * | offset | width | field            | meaning                                                  |
 * |-------:|------:|------------------|----------------------------------------------------------|
 * |      0 |     4 | magic            | `0x4B494458` ("KIDX")                                    |
 * |      4 |     2 | version          | 1                                                        |
 * |      6 |     2 | flags            | bit 0: sealed (slot table and the fields below are final) |
 * |      8 |     4 | slotCount        | hash slots in the slot table                             |
 * |     12 |     4 | entryCapacity    | most entries the file may hold                           |
 * |     16 |     4 | entryCount       | entries in the file when sealed; 0 while active          |
 * |     20 |     4 | reserved         | zero                                                     |
 * |     24 |     8 | firstEntry       | entry number of entry 1 of this file (= the file name)   |
 * |     32 |     8 | beginStoreTimeMs | smallest storeTimeMs of the entries (sealed only)        |
 * |     40 |     8 | endStoreTimeMs   | largest storeTimeMs of the entries (sealed only)         |
 * |     48 |    12 | reserved         | zero                                                     |
 * |     60 |     4 | crc              | CRC-32/IEEE of bytes [0, 60)                             |
 *
 * Slot table: slotCount × u32 at byte 64. Slot s holds the number (1-based, within this file) of
 * the newest entry whose keyHash mod slotCount is s; 0 = none. Valid only in a sealed file: the
 * active file's table lives in memory and is rebuilt from the entries at open.
 *
 * Entry n (1-based) at byte 64 + slotCount × 4 + (n - 1) × 32:
 * | offset | width | field          | meaning                                                    |
 * |-------:|------:|----------------|------------------------------------------------------------|
 * |      0 |     4 | keyHash        | hashKey() of the key (see below)                           |
 * |      4 |     4 | prev           | number of the previous entry in the same slot; 0 = none    |
 * |      8 |     8 | physicalOffset | PhysicalOffset of the message in its broker's commit log   |
 * |     16 |     8 | storeTimeMs    | the message's store timestamp                              |
 * |     24 |     2 | brokerIndex    | which broker's log (the caller's numbering)                |
 * |     26 |     2 | reserved       | zero                                                       |
 * |     28 |     4 | crc            | CRC-32/IEEE of bytes [0, 28)                               |
 *
 * Invariants: prev < n, and prev equals the slot's head just before entry n was appended (so a
 * scan in file order rebuilds the slot table and checks every chain link). Entries of a file are
 * contiguous from 1; files are contiguous in entry numbers (next file's name = this name + count).
 *
 * Hash: FNV-1a over the UTF-16 code units of the key string, then murmur3's fmix32 finalizer.
 * Key strings: `topic + '\u0001' + key` for message keys, `'\u0002' + messageId` for ids (topics
 * never contain control characters, so the two spaces never meet). Hashes collide: every result is
 * a candidate that the caller verifies against the real message.
 */
import { crc32 } from '@node-rs/crc32';
import { readInt64, writeInt64 } from '../codec/int64';

export const MAGIC = 0x4b494458;
export const VERSION = 1;
export const FLAG_SEALED = 1;
export const HEADER_BYTES = 64;
export const SLOT_BYTES = 4;
export const ENTRY_BYTES = 32;
export const FILE_SUFFIX = '.idx';
const NAME_DIGITS = 20;
const NAME_PATTERN = /^(\d{20})\.idx$/;

const AT_MAGIC = 0;
const AT_VERSION = 4;
const AT_FLAGS = 6;
const AT_SLOT_COUNT = 8;
const AT_CAPACITY = 12;
const AT_ENTRY_COUNT = 16;
const AT_FIRST_ENTRY = 24;
const AT_BEGIN_MS = 32;
const AT_END_MS = 40;
const AT_HEADER_CRC = 60;

const AT_KEY_HASH = 0;
const AT_PREV = 4;
const AT_PHYSICAL_OFFSET = 8;
const AT_STORE_TIME = 16;
const AT_BROKER = 24;
const AT_ENTRY_CRC = 28;

/** Largest brokerIndex an entry can carry (u16). */
export const MAX_BROKER_INDEX = 0xffff;

export interface FileHeader {
  readonly sealed: boolean;
  readonly slotCount: number;
  readonly entryCapacity: number;
  readonly entryCount: number;
  readonly firstEntry: number;
  readonly beginStoreTimeMs: number;
  readonly endStoreTimeMs: number;
}

/** What the caller indexes: one key of one message. */
export interface KeyIndexInput {
  /** The key string (indexKey / messageIdKey), hashed by the index. */
  readonly key: string;
  readonly brokerIndex: number;
  readonly physicalOffset: number;
  readonly storeTimeMs: number;
}

/** One decoded entry. */
export interface IndexEntry {
  readonly keyHash: number;
  readonly prev: number;
  readonly brokerIndex: number;
  readonly physicalOffset: number;
  readonly storeTimeMs: number;
}

/** The key string of a message key of a topic. */
export function indexKey(topic: string, key: string): string {
  return `${topic}\u0001${key}`;
}

/** The key string of a message id. */
export function messageIdKey(messageId: string): string {
  return `\u0002${messageId}`;
}

/** 32-bit hash of a key string: FNV-1a over UTF-16 code units, then fmix32 (unsigned). */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function fileName(firstEntry: number): string {
  return String(firstEntry).padStart(NAME_DIGITS, '0') + FILE_SUFFIX;
}

/** First entry numbers of the index files in a folder listing, ascending; other names ignored. */
export function parseFileNames(names: readonly string[]): number[] {
  const out: number[] = [];
  for (const name of names) {
    const m = NAME_PATTERN.exec(name);
    if (m) out.push(Number(m[1]));
  }
  return out.sort((a, b) => a - b);
}

/** Byte position of entry `n` (1-based) in a file with `slotCount` slots. */
export function entryPosition(slotCount: number, n: number): number {
  return HEADER_BYTES + slotCount * SLOT_BYTES + (n - 1) * ENTRY_BYTES;
}

export function encodeHeader(h: FileHeader): Buffer {
  const buf = Buffer.alloc(HEADER_BYTES);
  buf.writeUInt32BE(MAGIC, AT_MAGIC);
  buf.writeUInt16BE(VERSION, AT_VERSION);
  buf.writeUInt16BE(h.sealed ? FLAG_SEALED : 0, AT_FLAGS);
  buf.writeUInt32BE(h.slotCount, AT_SLOT_COUNT);
  buf.writeUInt32BE(h.entryCapacity, AT_CAPACITY);
  buf.writeUInt32BE(h.entryCount, AT_ENTRY_COUNT);
  writeInt64(buf, h.firstEntry, AT_FIRST_ENTRY);
  writeInt64(buf, h.beginStoreTimeMs, AT_BEGIN_MS);
  writeInt64(buf, h.endStoreTimeMs, AT_END_MS);
  buf.writeUInt32BE(crc32(buf.subarray(0, AT_HEADER_CRC)), AT_HEADER_CRC);
  return buf;
}

/** The header in `buf`, or a reason why it is not one. */
export function decodeHeader(buf: Buffer): FileHeader | string {
  if (buf.length < HEADER_BYTES) return 'short header';
  if (buf.readUInt32BE(AT_MAGIC) !== MAGIC) return 'bad magic';
  if (crc32(buf.subarray(0, AT_HEADER_CRC)) !== buf.readUInt32BE(AT_HEADER_CRC)) return 'header crc mismatch';
  if (buf.readUInt16BE(AT_VERSION) !== VERSION) return `unknown version ${buf.readUInt16BE(AT_VERSION)}`;
  const h: FileHeader = {
    sealed: (buf.readUInt16BE(AT_FLAGS) & FLAG_SEALED) !== 0,
    slotCount: buf.readUInt32BE(AT_SLOT_COUNT),
    entryCapacity: buf.readUInt32BE(AT_CAPACITY),
    entryCount: buf.readUInt32BE(AT_ENTRY_COUNT),
    firstEntry: readInt64(buf, AT_FIRST_ENTRY),
    beginStoreTimeMs: readInt64(buf, AT_BEGIN_MS),
    endStoreTimeMs: readInt64(buf, AT_END_MS),
  };
  if (h.slotCount === 0 || h.entryCapacity === 0 || h.entryCount > h.entryCapacity) return 'bad header counts';
  return h;
}

/** CRC-32/IEEE lookup table (reflected polynomial 0xEDB88320), for the short entry CRC. */
const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/**
 * CRC-32/IEEE of buf[from, to) in JS: for 28 bytes a table walk beats a native call plus the
 * subarray it needs (about 4× at recovery scans). Same value as zlib's crc32.
 */
export function crc32Of(buf: Buffer, from: number, to: number): number {
  let c = -1;
  for (let i = from; i < to; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** Encodes one entry at `at` (32 bytes, CRC included). */
export function writeEntry(buf: Buffer, at: number, keyHash: number, prev: number, input: KeyIndexInput): void {
  buf.writeUInt32BE(keyHash, at + AT_KEY_HASH);
  buf.writeUInt32BE(prev, at + AT_PREV);
  writeInt64(buf, input.physicalOffset, at + AT_PHYSICAL_OFFSET);
  writeInt64(buf, input.storeTimeMs, at + AT_STORE_TIME);
  buf.writeUInt16BE(input.brokerIndex, at + AT_BROKER);
  buf.writeUInt16BE(0, at + AT_BROKER + 2);
  buf.writeUInt32BE(crc32Of(buf, at, at + AT_ENTRY_CRC), at + AT_ENTRY_CRC);
}

/** Whether the 32 bytes at `at` carry a matching CRC. */
export function entryCrcOk(buf: Buffer, at: number): boolean {
  return crc32Of(buf, at, at + AT_ENTRY_CRC) === buf.readUInt32BE(at + AT_ENTRY_CRC);
}

export function entryKeyHash(buf: Buffer, at: number): number {
  return buf.readUInt32BE(at + AT_KEY_HASH);
}

export function entryPrev(buf: Buffer, at: number): number {
  return buf.readUInt32BE(at + AT_PREV);
}

export function entryStoreTime(buf: Buffer, at: number): number {
  return readInt64(buf, at + AT_STORE_TIME);
}

export function readEntry(buf: Buffer, at: number): IndexEntry {
  return {
    keyHash: buf.readUInt32BE(at + AT_KEY_HASH),
    prev: buf.readUInt32BE(at + AT_PREV),
    physicalOffset: readInt64(buf, at + AT_PHYSICAL_OFFSET),
    storeTimeMs: readInt64(buf, at + AT_STORE_TIME),
    brokerIndex: buf.readUInt16BE(at + AT_BROKER),
  };
}
