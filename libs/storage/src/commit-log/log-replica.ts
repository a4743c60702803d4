import { readSync } from 'node:fs';
import { checkRecord, readPrefix, type PhysicalOffset } from '../codec/record-codec';
import { PREFIX_BYTES } from '../codec/record-layout';
import { StorageError } from '../errors';
import type { Segment } from './segment';

/**
 * Master–slave replication of the commit log, byte for byte (format: docs/formats/commit-log.md,
 * "Replication"). The master reads raw bytes of its written log; the slave appends them at its
 * own end, so both logs hold the same bytes at the same PhysicalOffsets, in segment files of the
 * same names, fillers included.
 *
 * Read (master, `readLogChunk`):
 * - `from` is a record or filler start in [minOffset, writtenEnd]. Below the oldest retained
 *   segment, or past the written end: OFFSET_OUT_OF_RANGE. Not the start of a record:
 *   INVALID_OFFSET (the first record's stored PhysicalOffset must equal `from`).
 * - A chunk holds whole records, never a torn one, never bytes of two segments. A segment-end
 *   filler is copied as written (its 8-byte prefix; the rest of the segment is never written)
 *   and ends the chunk; `next` is then the next segment's base.
 * - `maxBytes` is a soft cap: a chunk holds at least one record (or the filler) when the log has
 *   one after `from`, even a record larger than `maxBytes`. Empty bytes: caught up.
 * - One `readSync` per chunk (a second one only for a first record larger than `maxBytes`); every
 *   record is CRC-checked (CORRUPT_RECORD), as every read of the log is.
 *
 * Append (slave, `checkReplicatedChunk` then CommitLog.appendReplicated):
 * - `from` must be the slave's log end (else REPLICA_OFFSET_MISMATCH, naming both offsets).
 * - Every record is checked first — prefix, CRC, stored PhysicalOffset, fits the segment — and a
 *   filler must reach the segment end and be the chunk's last bytes; one bad byte and nothing is
 *   appended (CORRUPT_RECORD).
 * - The bytes go through the ordinary writer (pooled batch buffers, one positional writev per
 *   turn, group commit), so durability and crash recovery are the local appends' own: a torn
 *   tail is cut at the next open and the log end says where to resume.
 *
 * Segment tails: when fewer than PREFIX_BYTES are left in a segment, no filler is written and the
 * log's end moves on to the next segment's base (the writer skips the tail, recovery ends there
 * too), so `next` and the slave's end are that base. An offset in such a tail is still accepted
 * by both calls as the same position as the next segment's base.
 */

/** The view of the log a chunk is read from: segments in base order, their size, the written end. */
export interface ReplicaSource {
  readonly segments: readonly Segment[];
  readonly segmentBytes: number;
  readonly minOffset: PhysicalOffset;
  readonly writtenEnd: PhysicalOffset;
}

export interface LogChunk {
  readonly bytes: Buffer;
  /** Where the following read starts: after the last record, or the next segment's base after a filler. */
  readonly next: PhysicalOffset;
}

/** What a checked chunk holds: the PhysicalOffset and chunk index of each message, and its filler. */
export interface CheckedChunk {
  readonly start: PhysicalOffset;
  readonly records: readonly { readonly at: number; readonly physicalOffset: PhysicalOffset; readonly totalBytes: number }[];
  /** Index of a segment-end filler (always the chunk's last PREFIX_BYTES), or -1. */
  readonly fillerAt: number;
  readonly segmentEnd: PhysicalOffset;
}

const EMPTY = Buffer.alloc(0);

/** The end of the segment holding `pos` (segment bases are multiples of the segment size). */
export function segmentEndOf(pos: PhysicalOffset, segmentBytes: number): PhysicalOffset {
  return pos - (pos % segmentBytes) + segmentBytes;
}

/** `pos`, or the next segment's base when `pos` lies in a tail too short for a filler. */
export function pastShortTail(pos: PhysicalOffset, segmentBytes: number): PhysicalOffset {
  const end = segmentEndOf(pos, segmentBytes);
  return pos % segmentBytes !== 0 && end - pos < PREFIX_BYTES ? end : pos;
}

/** Whole records (and a segment-end filler) of the written log from `from`, at most about `maxBytes`. */
export function readLogChunk(log: ReplicaSource, from: PhysicalOffset, maxBytes: number): LogChunk {
  const size = log.segmentBytes;
  if (from < log.minOffset) {
    throw new StorageError(
      'OFFSET_OUT_OF_RANGE',
      `PhysicalOffset ${from} is below the oldest retained offset ${log.minOffset} (retention deleted it)`,
    );
  }
  if (from > pastShortTail(log.writtenEnd, size)) {
    throw new StorageError('OFFSET_OUT_OF_RANGE', `PhysicalOffset ${from} is past the written end ${log.writtenEnd} of the log`);
  }
  const start = pastShortTail(from, size);
  if (start >= log.writtenEnd) return { bytes: EMPTY, next: from };
  const segment = log.segments.find((s) => start >= s.base && start < s.base + size);
  if (!segment) throw new StorageError('OFFSET_OUT_OF_RANGE', `no segment holds PhysicalOffset ${start}`);
  const segmentEnd = segment.base + size;
  const readEnd = Math.min(segmentEnd, log.writtenEnd);
  let buf = Buffer.allocUnsafe(Math.min(readEnd - start, Math.max(maxBytes, PREFIX_BYTES)));
  let got = readSync(segment.fd, buf, 0, buf.length, start - segment.base);
  let at = 0;
  let pos = start;
  const bad = (reason: string): StorageError =>
    pos === start
      ? new StorageError('INVALID_OFFSET', `PhysicalOffset ${from} is not the start of a stored record (${reason})`)
      : new StorageError('CORRUPT_RECORD', `record at PhysicalOffset ${pos} is corrupt (${reason})`);
  while (got - at >= PREFIX_BYTES) {
    const prefix = readPrefix(buf, at);
    if (prefix.kind === 'filler') {
      if (pos + prefix.totalBytes !== segmentEnd) throw bad('filler does not reach the segment end');
      at += PREFIX_BYTES;
      pos = segmentEnd;
      break;
    }
    if (prefix.kind !== 'message') throw bad(prefix.kind === 'bad' ? prefix.reason : 'no record');
    if (pos + prefix.totalBytes > readEnd) throw bad('record crosses the written end');
    if (at + prefix.totalBytes > got) {
      if (at > 0) break; // the next chunk starts with it
      // A first record larger than maxBytes: read it whole (the soft cap), as LogPager grows.
      buf = Buffer.allocUnsafe(prefix.totalBytes);
      got = readSync(segment.fd, buf, 0, buf.length, start - segment.base);
      if (got < prefix.totalBytes) throw bad('the file ends before the written end');
    }
    const reason = checkRecord(buf, at, pos);
    if (reason) throw bad(reason);
    at += prefix.totalBytes;
    pos += prefix.totalBytes;
  }
  if (at === 0) throw bad('the file ends before the written end');
  return { bytes: buf.subarray(0, at), next: pastShortTail(pos, size) };
}

/**
 * Checks a replicated chunk that starts at `start` (the slave's end) before anything of it is
 * appended: whole records of one segment, each intact at its offset, and at most a final filler.
 */
export function checkReplicatedChunk(bytes: Buffer, start: PhysicalOffset, segmentBytes: number): CheckedChunk {
  const segmentEnd = segmentEndOf(start, segmentBytes);
  const records: { at: number; physicalOffset: PhysicalOffset; totalBytes: number }[] = [];
  let fillerAt = -1;
  let at = 0;
  const bad = (reason: string): StorageError =>
    new StorageError('CORRUPT_RECORD', `replicated bytes at PhysicalOffset ${start + at} are corrupt (${reason}); nothing was appended`);
  while (at < bytes.length) {
    const pos = start + at;
    if (bytes.length - at < PREFIX_BYTES) throw bad('the chunk ends inside a record prefix');
    const prefix = readPrefix(bytes, at);
    if (prefix.kind === 'filler') {
      if (pos + prefix.totalBytes !== segmentEnd) throw bad('filler does not reach the segment end');
      if (at + PREFIX_BYTES !== bytes.length) throw bad('bytes after a segment-end filler');
      fillerAt = at;
      break;
    }
    if (prefix.kind !== 'message') throw bad(prefix.kind === 'bad' ? prefix.reason : 'zeros where a record should be');
    if (pos + prefix.totalBytes > segmentEnd) throw bad('record crosses the segment end');
    if (at + prefix.totalBytes > bytes.length) throw bad('the chunk ends inside a record');
    const reason = checkRecord(bytes, at, pos);
    if (reason) throw bad(reason);
    records.push({ at, physicalOffset: pos, totalBytes: prefix.totalBytes });
    at += prefix.totalBytes;
  }
  return { start, records, fillerAt, segmentEnd };
}
