import { readSync } from 'node:fs';
import { checkRecord, readPrefix, type PhysicalOffset } from '../codec/record-codec';
import { PREFIX_BYTES } from '../codec/record-layout';
import { StorageError } from '../errors';
import type { Segment } from './segment';

/**
 * Reads the written commit log forward, one page at a time, for followers of the log (the
 * BrokerDispatch Follow stream; later replicas): from a record boundary, up to `maxRecords`
 * records or about `maxBytes`, never past the written end. Unlike recovery's scanLog it never
 * truncates anything: the written part of the log is intact by construction, so a bad record
 * there is an error (CORRUPT_RECORD), except at the page's first position, where it means the
 * caller's offset is not the start of a record (INVALID_OFFSET).
 *
 * Segment-end fillers, and segment tails too short for one (< PREFIX_BYTES), are stepped over;
 * a hole between segments (none is ever written, but files can go missing) is jumped over to
 * the next segment's base. Reads are one `readSync` per chunk of records (NODE-PERFORMANCE §6).
 */

/** Called for each record of the page; `buf` is only valid during the call. */
export type PageVisitor = (buf: Buffer, at: number, physicalOffset: PhysicalOffset) => void;

export interface PageLimits {
  readonly maxRecords: number;
  /** Stop once a page holds this many bytes (a single larger record still goes through). */
  readonly maxBytes: number;
}

export interface LogPage {
  readonly records: number;
  /** Where the next page starts: after the last record visited, and after any filler or hole behind it. */
  readonly next: PhysicalOffset;
}

/** The view of the log a page reads: the segments in base order and the written end. */
export interface PagedLog {
  readonly segments: readonly Segment[];
  readonly segmentBytes: number;
  readonly writtenEnd: PhysicalOffset;
}

export class LogPager {
  private scratch: Buffer;

  constructor(initialBytes = 256 * 1024) {
    this.scratch = Buffer.allocUnsafeSlow(initialBytes);
  }

  /** Visits the records in [from, writtenEnd), at most `limits`; `from` must be a record boundary. */
  read(log: PagedLog, from: PhysicalOffset, limits: PageLimits, visit: PageVisitor): LogPage {
    let pos = from;
    let records = 0;
    let bytes = 0;
    let index = this.segmentIndexAt(log, pos);
    while (index < log.segments.length && pos < log.writtenEnd && records < limits.maxRecords && bytes < limits.maxBytes) {
      const segment = log.segments[index];
      const segmentEnd = segment.base + log.segmentBytes;
      if (pos < segment.base) pos = segment.base; // a hole before this segment
      const readEnd = Math.min(segmentEnd, log.writtenEnd);
      if (readEnd - pos < PREFIX_BYTES) {
        if (readEnd === segmentEnd) {
          pos = segmentEnd; // a tail too short for a filler
          index++;
          continue;
        }
        break; // the written end is inside this segment: nothing more yet
      }
      const want = Math.min(readEnd - pos, Math.max(this.scratch.length, PREFIX_BYTES));
      const got = readSync(segment.fd, this.scratch, 0, want, pos - segment.base);
      let at = 0;
      let stepped = false;
      while (got - at >= PREFIX_BYTES && records < limits.maxRecords && bytes < limits.maxBytes) {
        const prefix = readPrefix(this.scratch, at);
        if (prefix.kind === 'filler') {
          pos = segmentEnd;
          index++;
          stepped = true;
          break;
        }
        if (prefix.kind !== 'message') throw this.bad(from, pos, prefix.kind === 'bad' ? prefix.reason : 'no record');
        if (pos + prefix.totalBytes > readEnd) throw this.bad(from, pos, 'record crosses the written end');
        if (at + prefix.totalBytes > got) break; // only partly in this chunk: read again from `pos`
        const reason = checkRecord(this.scratch, at, pos);
        if (reason) throw this.bad(from, pos, reason);
        visit(this.scratch, at, pos);
        records++;
        bytes += prefix.totalBytes;
        at += prefix.totalBytes;
        pos += prefix.totalBytes;
      }
      if (stepped || at > 0 || records >= limits.maxRecords || bytes >= limits.maxBytes) continue;
      if (got < PREFIX_BYTES) throw this.bad(from, pos, 'the file ends before the written end');
      // Not even one record fit: it is larger than the scratch buffer.
      const prefix = readPrefix(this.scratch, 0);
      if (prefix.kind !== 'message' || prefix.totalBytes <= this.scratch.length) throw this.bad(from, pos, 'short read');
      this.scratch = Buffer.allocUnsafeSlow(prefix.totalBytes);
    }
    return { records, next: pos };
  }

  /** The first segment that ends after `pos` (the one holding it, or the next after a hole). */
  private segmentIndexAt(log: PagedLog, pos: PhysicalOffset): number {
    let lo = 0;
    let hi = log.segments.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (log.segments[mid].base + log.segmentBytes <= pos) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private bad(from: PhysicalOffset, pos: PhysicalOffset, reason: string): StorageError {
    if (pos === from) {
      return new StorageError('INVALID_OFFSET', `PhysicalOffset ${from} is not the start of a stored record (${reason})`);
    }
    return new StorageError('CORRUPT_RECORD', `record at PhysicalOffset ${pos} is corrupt (${reason})`);
  }
}
