/**
 * Metadata journal: `<dir>/<table>.<generation, 20 digits>.journal` (decision: docs/decisions/0001).
 *
 * Written only by the `MetaTable` that owns the table (one process, append-only, positional writes,
 * one fdatasync per group commit); read only by `MetaTable` recovery on open. All integers are
 * big-endian; the 64-bit generation is stored as two 32-bit halves and is < 2^53.
 *
 * File header (written and fsynced before the snapshot that names this generation is committed):
 *
 * | offset | width | field      | meaning                                                 |
 * |-------:|------:|------------|---------------------------------------------------------|
 * |      0 |     4 | magic      | 0x41504D4A ("APMJ")                                     |
 * |      4 |     2 | version    | 1                                                       |
 * |      6 |     2 | reserved   | zero                                                    |
 * |      8 |     8 | generation | equals the generation in the file name                  |
 *
 * Then records, back to back until end of file:
 *
 * | offset | width        | field        | meaning                                         |
 * |-------:|-------------:|--------------|-------------------------------------------------|
 * |      0 |            4 | payloadBytes | length of payload (>= one mutation)             |
 * |      4 |            4 | crc          | CRC-32/IEEE (node:zlib crc32) of the payload    |
 * |      8 | payloadBytes | payload      | one or more mutations, back to back             |
 *
 * A mutation inside a payload:
 *
 * | offset | width      | field      | meaning                                            |
 * |-------:|-----------:|------------|----------------------------------------------------|
 * |      0 |          1 | op         | 1 = set, 2 = delete                                |
 * |      1 |          2 | keyBytes   | length of key (1..MAX_KEY_BYTES)                   |
 * |      3 |          4 | valueBytes | length of value; 0 for delete                      |
 * |      7 |   keyBytes | key        | UTF-8                                              |
 * |      … | valueBytes | value      | JSON text, UTF-8                                   |
 *
 * Invariants: a record is the unit of atomicity (`setMany` is one record); records are only ever
 * appended; the header is never rewritten. After a crash the file ends in a valid record, or in a
 * torn/garbage tail (short length, length past EOF, CRC mismatch, unparsable payload, zeros left
 * by the file system): recovery keeps the prefix up to the first bad record, truncates the rest
 * and reports the bytes cut. Only un-acknowledged mutations can be in a torn tail, because
 * `set()` resolves after the fdatasync that covers its record.
 */
import { crc32 } from 'node:zlib';

export const JOURNAL_MAGIC = 0x41504d4a;
export const JOURNAL_VERSION = 1;
export const JOURNAL_HEADER_BYTES = 16;
const AT_JOURNAL_MAGIC = 0;
const AT_JOURNAL_VERSION = 4;
const AT_JOURNAL_RESERVED = 6;
const AT_JOURNAL_GENERATION = 8;

export const RECORD_PREFIX_BYTES = 8;
const AT_PAYLOAD_BYTES = 0;
const AT_CRC = 4;

export const OP_SET = 1;
export const OP_DELETE = 2;
export const MUTATION_FIXED_BYTES = 7;
const AT_OP = 0;
const AT_KEY_BYTES = 1;
const AT_VALUE_BYTES = 3;

export const MAX_KEY_BYTES = 0xffff;
/** Upper bound for one record's payload; larger lengths are read as corruption. */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

const U32_SPLIT = 0x1_0000_0000;

export type MetaMutation =
  | { readonly op: typeof OP_SET; readonly key: string; readonly valueJson: string }
  | { readonly op: typeof OP_DELETE; readonly key: string };

/** A mutation as read back: the value already parsed from its JSON text. */
export type DecodedMutation =
  | { readonly op: typeof OP_SET; readonly key: string; readonly value: unknown }
  | { readonly op: typeof OP_DELETE; readonly key: string };

/** Why the scan stopped before the end of the file. */
export type JournalStopReason = 'torn-prefix' | 'bad-length' | 'torn-payload' | 'crc-mismatch' | 'bad-payload';

export interface JournalScan {
  /** Valid records, in file order. */
  readonly records: DecodedMutation[][];
  /** File position just past the last valid record. */
  readonly validBytes: number;
  readonly stopReason?: JournalStopReason;
}

export function writeU64(buf: Buffer, value: number, at: number): void {
  buf.writeUInt32BE(Math.floor(value / U32_SPLIT), at);
  buf.writeUInt32BE(value % U32_SPLIT, at + 4);
}

export function readU64(buf: Buffer, at: number): number {
  return buf.readUInt32BE(at) * U32_SPLIT + buf.readUInt32BE(at + 4);
}

export function encodeJournalHeader(generation: number): Buffer {
  const buf = Buffer.alloc(JOURNAL_HEADER_BYTES);
  buf.writeUInt32BE(JOURNAL_MAGIC, AT_JOURNAL_MAGIC);
  buf.writeUInt16BE(JOURNAL_VERSION, AT_JOURNAL_VERSION);
  writeU64(buf, generation, AT_JOURNAL_GENERATION);
  return buf;
}

/** Returns a problem description, or undefined when the header is valid for `generation`. */
export function checkJournalHeader(file: Buffer, generation: number): string | undefined {
  if (file.length < JOURNAL_HEADER_BYTES) return `header is ${file.length} of ${JOURNAL_HEADER_BYTES} bytes`;
  if (file.readUInt32BE(AT_JOURNAL_MAGIC) !== JOURNAL_MAGIC) return 'bad magic';
  const version = file.readUInt16BE(AT_JOURNAL_VERSION);
  if (version !== JOURNAL_VERSION) return `unsupported version ${version}`;
  if (file.readUInt16BE(AT_JOURNAL_RESERVED) !== 0) return 'reserved bytes are not zero';
  const stored = readU64(file, AT_JOURNAL_GENERATION);
  if (stored !== generation) return `header generation ${stored} does not match file name ${generation}`;
  return undefined;
}

/** Encodes one record holding `mutations` (applied atomically on replay). */
export function encodeRecord(mutations: readonly MetaMutation[]): Buffer {
  const parts = mutations.map(encodeMutation);
  const payload = Buffer.concat(parts);
  const prefix = Buffer.alloc(RECORD_PREFIX_BYTES);
  prefix.writeUInt32BE(payload.length, AT_PAYLOAD_BYTES);
  prefix.writeUInt32BE(crc32(payload), AT_CRC);
  return Buffer.concat([prefix, payload]);
}

function encodeMutation(mutation: MetaMutation): Buffer {
  const key = Buffer.from(mutation.key, 'utf8');
  const value = mutation.op === OP_SET ? Buffer.from(mutation.valueJson, 'utf8') : Buffer.alloc(0);
  const head = Buffer.alloc(MUTATION_FIXED_BYTES);
  head.writeUInt8(mutation.op, AT_OP);
  head.writeUInt16BE(key.length, AT_KEY_BYTES);
  head.writeUInt32BE(value.length, AT_VALUE_BYTES);
  return Buffer.concat([head, key, value]);
}

/** Decodes a payload; undefined when it is not a well-formed, non-empty list of mutations. */
export function decodePayload(payload: Buffer): DecodedMutation[] | undefined {
  const mutations: DecodedMutation[] = [];
  let at = 0;
  while (at < payload.length) {
    if (payload.length - at < MUTATION_FIXED_BYTES) return undefined;
    const op = payload.readUInt8(at + AT_OP);
    const keyBytes = payload.readUInt16BE(at + AT_KEY_BYTES);
    const valueBytes = payload.readUInt32BE(at + AT_VALUE_BYTES);
    const keyAt = at + MUTATION_FIXED_BYTES;
    const end = keyAt + keyBytes + valueBytes;
    if (keyBytes === 0 || end > payload.length) return undefined;
    const key = payload.toString('utf8', keyAt, keyAt + keyBytes);
    if (op === OP_SET) {
      const value = parseJson(payload.toString('utf8', keyAt + keyBytes, end));
      if (isInvalidJson(value)) return undefined;
      mutations.push({ op, key, value });
    } else if (op === OP_DELETE && valueBytes === 0) {
      mutations.push({ op, key });
    } else {
      return undefined;
    }
    at = end;
  }
  return mutations.length > 0 ? mutations : undefined;
}

/**
 * Scans the records of a whole journal file (header already checked) and stops at the first
 * record that is torn or corrupt. Pure: the caller truncates and reports.
 */
export function scanJournal(file: Buffer): JournalScan {
  const records: DecodedMutation[][] = [];
  let at = JOURNAL_HEADER_BYTES;
  const stop = (stopReason: JournalStopReason): JournalScan => ({ records, validBytes: at, stopReason });
  while (at < file.length) {
    if (file.length - at < RECORD_PREFIX_BYTES) return stop('torn-prefix');
    const payloadBytes = file.readUInt32BE(at + AT_PAYLOAD_BYTES);
    if (payloadBytes < MUTATION_FIXED_BYTES || payloadBytes > MAX_PAYLOAD_BYTES) return stop('bad-length');
    const payloadAt = at + RECORD_PREFIX_BYTES;
    if (payloadAt + payloadBytes > file.length) return stop('torn-payload');
    const payload = file.subarray(payloadAt, payloadAt + payloadBytes);
    if (crc32(payload) !== file.readUInt32BE(at + AT_CRC)) return stop('crc-mismatch');
    const mutations = decodePayload(payload);
    if (mutations === undefined) return stop('bad-payload');
    records.push(mutations);
    at = payloadAt + payloadBytes;
  }
  return { records, validBytes: at };
}

const INVALID_JSON: unique symbol = Symbol('invalid JSON');

/** JSON.parse that reports failure as a value: a bad value is corruption, not a crash. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return INVALID_JSON;
  }
}

export function isInvalidJson(value: unknown): value is typeof INVALID_JSON {
  return value === INVALID_JSON;
}
