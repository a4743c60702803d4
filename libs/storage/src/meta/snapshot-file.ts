/**
 * Metadata snapshot: `<dir>/<table>.snapshot` (decision: docs/decisions/0001).
 *
 * Written only by `MetaTable` when it creates a table or compacts it: the whole map goes to
 * `<table>.snapshot.tmp`, which is fsynced, renamed over `<table>.snapshot`, and the directory
 * fsynced. Read only by `MetaTable` recovery on open. Never modified after the rename. All
 * integers are big-endian; the 64-bit generation is stored as two 32-bit halves (< 2^53).
 *
 * | offset | width | field       | meaning                                                  |
 * |-------:|------:|-------------|----------------------------------------------------------|
 * |      0 |     4 | magic       | 0x41504D53 ("APMS")                                      |
 * |      4 |     2 | version     | 1                                                        |
 * |      6 |     2 | reserved    | zero                                                     |
 * |      8 |     4 | crc         | CRC-32/IEEE of bytes [12, end of file)                   |
 * |     12 |     8 | generation  | the journal generation that continues this snapshot      |
 * |     20 |     4 | entryCount  | number of entries                                        |
 * |     24 |     4 | bodyBytes   | length of the entries; the file is 28 + bodyBytes long   |
 * |     28 |     … | entries     | entryCount entries, back to back                         |
 *
 * An entry:
 *
 * | offset | width      | field      | meaning                                            |
 * |-------:|-----------:|------------|----------------------------------------------------|
 * |      0 |          2 | keyBytes   | length of key (>= 1)                               |
 * |      2 |          4 | valueBytes | length of value                                    |
 * |      6 |   keyBytes | key        | UTF-8                                              |
 * |      … | valueBytes | value      | JSON text, UTF-8                                   |
 *
 * Invariants: the snapshot holds the complete state as of the end of journal generation - 1;
 * the journal named by `generation` holds every later mutation. After a crash the rename is
 * either visible or not (a leftover `.tmp` is garbage and deleted on open). A snapshot that
 * fails any check is the only copy of the state, so recovery refuses to open the table
 * (CORRUPT_METADATA) instead of starting empty.
 */
import { crc32 } from 'node:zlib';

import { isInvalidJson, parseJson, readU64, writeU64 } from './journal-file';

export const SNAPSHOT_MAGIC = 0x41504d53;
export const SNAPSHOT_VERSION = 1;
export const SNAPSHOT_HEADER_BYTES = 28;
const AT_MAGIC = 0;
const AT_VERSION = 4;
const AT_RESERVED = 6;
const AT_CRC = 8;
const CRC_FROM = 12;
const AT_GENERATION = 12;
const AT_ENTRY_COUNT = 20;
const AT_BODY_BYTES = 24;

const ENTRY_FIXED_BYTES = 6;
const AT_ENTRY_KEY_BYTES = 0;
const AT_ENTRY_VALUE_BYTES = 2;

export interface SnapshotContent {
  readonly generation: number;
  /** Key → JSON text of the value. */
  readonly entries: Iterable<readonly [string, string]>;
}

export interface DecodedSnapshot {
  readonly generation: number;
  readonly entries: Map<string, unknown>;
}

export function encodeSnapshot(content: SnapshotContent): Buffer {
  const parts: Buffer[] = [];
  let entryCount = 0;
  for (const [keyText, valueJson] of content.entries) {
    const key = Buffer.from(keyText, 'utf8');
    const value = Buffer.from(valueJson, 'utf8');
    const head = Buffer.alloc(ENTRY_FIXED_BYTES);
    head.writeUInt16BE(key.length, AT_ENTRY_KEY_BYTES);
    head.writeUInt32BE(value.length, AT_ENTRY_VALUE_BYTES);
    parts.push(head, key, value);
    entryCount += 1;
  }
  const body = Buffer.concat(parts);
  const header = Buffer.alloc(SNAPSHOT_HEADER_BYTES);
  header.writeUInt32BE(SNAPSHOT_MAGIC, AT_MAGIC);
  header.writeUInt16BE(SNAPSHOT_VERSION, AT_VERSION);
  writeU64(header, content.generation, AT_GENERATION);
  header.writeUInt32BE(entryCount, AT_ENTRY_COUNT);
  header.writeUInt32BE(body.length, AT_BODY_BYTES);
  const file = Buffer.concat([header, body]);
  file.writeUInt32BE(crc32(file.subarray(CRC_FROM)), AT_CRC);
  return file;
}

/** Decodes a whole snapshot file; throws an Error naming the first problem found. */
export function decodeSnapshot(file: Buffer): DecodedSnapshot {
  checkSnapshotHeader(file);
  const generation = readU64(file, AT_GENERATION);
  const entryCount = file.readUInt32BE(AT_ENTRY_COUNT);
  const entries = new Map<string, unknown>();
  let at = SNAPSHOT_HEADER_BYTES;
  for (let i = 0; i < entryCount; i += 1) {
    if (file.length - at < ENTRY_FIXED_BYTES) throw new Error(`entry ${i} is cut short`);
    const keyBytes = file.readUInt16BE(at + AT_ENTRY_KEY_BYTES);
    const valueBytes = file.readUInt32BE(at + AT_ENTRY_VALUE_BYTES);
    const keyAt = at + ENTRY_FIXED_BYTES;
    const end = keyAt + keyBytes + valueBytes;
    if (keyBytes === 0 || end > file.length) throw new Error(`entry ${i} has bad lengths`);
    const value = parseJson(file.toString('utf8', keyAt + keyBytes, end));
    if (isInvalidJson(value)) throw new Error(`entry ${i} value is not JSON`);
    entries.set(file.toString('utf8', keyAt, keyAt + keyBytes), value);
    at = end;
  }
  if (at !== file.length) throw new Error(`${file.length - at} bytes after the last entry`);
  return { generation, entries };
}

function checkSnapshotHeader(file: Buffer): void {
  if (file.length < SNAPSHOT_HEADER_BYTES) {
    throw new Error(`file is ${file.length} bytes, shorter than the ${SNAPSHOT_HEADER_BYTES}-byte header`);
  }
  if (file.readUInt32BE(AT_MAGIC) !== SNAPSHOT_MAGIC) throw new Error('bad magic');
  const version = file.readUInt16BE(AT_VERSION);
  if (version !== SNAPSHOT_VERSION) throw new Error(`unsupported version ${version}`);
  if (file.readUInt16BE(AT_RESERVED) !== 0) throw new Error('reserved bytes are not zero');
  const bodyBytes = file.readUInt32BE(AT_BODY_BYTES);
  if (file.length !== SNAPSHOT_HEADER_BYTES + bodyBytes) {
    throw new Error(`file is ${file.length} bytes, header says ${SNAPSHOT_HEADER_BYTES + bodyBytes}`);
  }
  if (crc32(file.subarray(CRC_FROM)) !== file.readUInt32BE(AT_CRC)) throw new Error('crc mismatch');
}
