/**
 * Timer bucket files (spec: docs/formats/timer.md; this header is the normative copy).
 *
 * `<dataDir>/timer/<20-digit bucket start ms>.bucket`: every timer whose due time falls in
 * [start, start + BUCKET_MS), in the order the TimerStore learnt of them, plus one cancel entry
 * per recall. Written by the TimerStore only (append, then fdatasync before the checkpoint that
 * depends on it moves); read whole when its bucket is about to fire, and scanned by a recall.
 * Deleted once every due time in it has fired and the "fired up to" checkpoint is durable.
 *
 * Fixed-size entries, big-endian:
 *
 * | offset | width | field          | meaning                                                    |
 * |-------:|------:|----------------|------------------------------------------------------------|
 * |      0 |     8 | dueMs          | due time, Unix epoch milliseconds                          |
 * |      8 |     8 | physicalOffset | PhysicalOffset of the timer record (system topic) in the commit log |
 * |     16 |     4 | totalBytes     | size of that record                                        |
 * |     20 |     1 | kind           | 1 = timer, 2 = cancel (recall) of the timer with this physicalOffset |
 * |     21 |     3 | reserved       | zero                                                       |
 * |     24 |     4 | crc32          | CRC-32 (zlib) of bytes 0..23                               |
 *
 * Invariants: an entry's dueMs lies in the file's bucket; a physicalOffset appears at most once as
 * a live timer (re-ingestion after a crash may write it again: readers de-duplicate); a cancel
 * entry follows the timer it cancels. Crash: entries are fsynced before the ingest checkpoint
 * moves, so a torn or unsynced tail only holds entries that are ingested again from the commit
 * log (timers) or that were never acknowledged (cancels); `repairBucketFile` cuts the file at the
 * first short or CRC-failing entry.
 */
import { constants } from 'node:fs';
import { open, readFile, truncate } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';

export const ENTRY_BYTES = 28;
/** Width of one bucket: one file per 10 s of due time (≤ 60,480 files for a 7-day horizon). */
export const BUCKET_MS = 10_000;
export const BUCKET_SUFFIX = '.bucket';
const AT_DUE_MS = 0;
const AT_PHYSICAL_OFFSET = 8;
const AT_TOTAL_BYTES = 16;
const AT_KIND = 20;
const AT_CRC = 24;
const KIND_TIMER = 1;
const KIND_CANCEL = 2;
const TWO_32 = 2 ** 32;

export interface TimerEntry {
  readonly kind: 'timer' | 'cancel';
  readonly dueMs: number;
  readonly physicalOffset: number;
  readonly totalBytes: number;
}

function writeUint64(buf: Buffer, value: number, at: number): void {
  buf.writeUInt32BE(Math.floor(value / TWO_32), at);
  buf.writeUInt32BE(value % TWO_32, at + 4);
}

function readUint64(buf: Buffer, at: number): number {
  return buf.readUInt32BE(at) * TWO_32 + buf.readUInt32BE(at + 4);
}

export function bucketStartOf(dueMs: number): number {
  return Math.floor(dueMs / BUCKET_MS) * BUCKET_MS;
}

export function bucketFileName(bucketStartMs: number): string {
  return String(bucketStartMs).padStart(20, '0') + BUCKET_SUFFIX;
}

/** The bucket start a file name stands for, or undefined for any other file. */
export function bucketStartOfFileName(name: string): number | undefined {
  const match = /^(\d{20})\.bucket$/.exec(name);
  if (match === null) return undefined;
  const start = Number(match[1]);
  return Number.isSafeInteger(start) && start % BUCKET_MS === 0 ? start : undefined;
}

export function encodeEntry(entry: TimerEntry, buf: Buffer = Buffer.alloc(ENTRY_BYTES), at = 0): Buffer {
  buf.fill(0, at, at + ENTRY_BYTES);
  writeUint64(buf, entry.dueMs, at + AT_DUE_MS);
  writeUint64(buf, entry.physicalOffset, at + AT_PHYSICAL_OFFSET);
  buf.writeInt32BE(entry.totalBytes, at + AT_TOTAL_BYTES);
  buf.writeUInt8(entry.kind === 'timer' ? KIND_TIMER : KIND_CANCEL, at + AT_KIND);
  buf.writeUInt32BE(crc32(buf.subarray(at, at + AT_CRC)), at + AT_CRC);
  return buf;
}

/** The entry at `at`, or undefined when its CRC or kind is wrong (a torn write). */
export function decodeEntry(buf: Buffer, at: number): TimerEntry | undefined {
  if (at + ENTRY_BYTES > buf.length) return undefined;
  if (buf.readUInt32BE(at + AT_CRC) !== crc32(buf.subarray(at, at + AT_CRC))) return undefined;
  const kind = buf.readUInt8(at + AT_KIND);
  if (kind !== KIND_TIMER && kind !== KIND_CANCEL) return undefined;
  return {
    kind: kind === KIND_TIMER ? 'timer' : 'cancel',
    dueMs: readUint64(buf, at + AT_DUE_MS),
    physicalOffset: readUint64(buf, at + AT_PHYSICAL_OFFSET),
    totalBytes: buf.readInt32BE(at + AT_TOTAL_BYTES),
  };
}

/** Every whole, CRC-valid entry of `buf` up to the first bad one, and how many bytes that is. */
export function decodeEntries(buf: Buffer): { entries: TimerEntry[]; validBytes: number } {
  const entries: TimerEntry[] = [];
  let at = 0;
  for (; at + ENTRY_BYTES <= buf.length; at += ENTRY_BYTES) {
    const entry = decodeEntry(buf, at);
    if (entry === undefined) break;
    entries.push(entry);
  }
  return { entries, validBytes: at };
}

/** The live timers of a bucket's entries: de-duplicated by physicalOffset, cancelled ones dropped. */
export function liveTimers(entries: readonly TimerEntry[]): { timers: TimerEntry[]; cancelled: Set<number> } {
  const cancelled = new Set<number>();
  for (const e of entries) if (e.kind === 'cancel') cancelled.add(e.physicalOffset);
  const seen = new Set<number>();
  const timers: TimerEntry[] = [];
  for (const e of entries) {
    if (e.kind !== 'timer' || cancelled.has(e.physicalOffset) || seen.has(e.physicalOffset)) continue;
    seen.add(e.physicalOffset);
    timers.push(e);
  }
  return { timers, cancelled };
}

/** Appends `entries` to the bucket file in `dir` and fdatasyncs it; true when the file is new. */
export async function appendEntries(dir: string, bucketStartMs: number, entries: readonly TimerEntry[]): Promise<boolean> {
  const buf = Buffer.alloc(entries.length * ENTRY_BYTES);
  entries.forEach((e, i) => encodeEntry(e, buf, i * ENTRY_BYTES));
  const file = path.join(dir, bucketFileName(bucketStartMs));
  let created = false;
  let handle;
  try {
    handle = await open(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL);
    created = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    handle = await open(file, constants.O_WRONLY | constants.O_APPEND);
  }
  try {
    await handle.write(buf, 0, buf.length);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  return created;
}

/** Every valid entry of a bucket file; [] when it does not exist. */
export async function readBucketFile(dir: string, bucketStartMs: number): Promise<TimerEntry[]> {
  try {
    return decodeEntries(await readFile(path.join(dir, bucketFileName(bucketStartMs)))).entries;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/**
 * Cuts a bucket file at its first short or CRC-failing entry (after a crash); the bytes cut.
 * Only the tail can be torn (entries are appended and synced in order), so a file whose size is
 * a whole number of entries and whose last entry checks out is left unread.
 */
export async function repairBucketFile(dir: string, bucketStartMs: number): Promise<number> {
  const file = path.join(dir, bucketFileName(bucketStartMs));
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size === 0) return 0;
    if (size % ENTRY_BYTES === 0) {
      const last = Buffer.alloc(ENTRY_BYTES);
      await handle.read(last, 0, ENTRY_BYTES, size - ENTRY_BYTES);
      if (decodeEntry(last, 0) !== undefined) return 0;
    }
  } finally {
    await handle.close();
  }
  const buf = await readFile(file);
  const { validBytes } = decodeEntries(buf);
  if (validBytes === buf.length) return 0;
  await truncate(file, validBytes);
  return buf.length - validBytes;
}
