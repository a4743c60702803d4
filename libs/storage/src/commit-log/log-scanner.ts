import { readSync } from 'node:fs';
import { checkRecord, readPrefix } from '../codec/record-codec';
import { PREFIX_BYTES } from '../codec/record-layout';
import type { Segment } from './segment';

/**
 * Reads the commit log forward from a record boundary and checks every record, the way recovery
 * and a full rebuild need it: scan → check CRC → stop at the first bad record. It reports where
 * the intact log ends and, if it stopped early, why; the caller truncates.
 */

export interface Corruption {
  readonly offset: number; // PhysicalOffset of the first bad byte
  readonly reason: string;
}

export interface ScanResult {
  /** PhysicalOffset after the last intact record (or after the last full segment). */
  readonly end: number;
  /** Why the scan stopped before the end of the files, if it did. */
  readonly corruption: Corruption | null;
  readonly records: number;
}

/** Called for each intact record; `buf` is only valid during the call. */
export type RecordVisitor = (buf: Buffer, at: number, physicalOffset: number) => void;

const READ_CHUNK_BYTES = 4 << 20;

class ChunkReader {
  private buf = Buffer.allocUnsafeSlow(READ_CHUNK_BYTES);
  private start = 0;
  private length = 0;
  private segment: Segment | null = null;

  /** Makes [pos, pos + bytes) available; returns its index in `view`, or -1 past end of file. */
  load(segment: Segment, fileEnd: number, pos: number, bytes: number): number {
    const cached = segment === this.segment && pos >= this.start && pos + bytes <= this.start + this.length;
    if (cached) return pos - this.start;
    if (pos + bytes > fileEnd) return -1;
    if (bytes > this.buf.length) this.buf = Buffer.allocUnsafeSlow(bytes);
    const want = Math.min(this.buf.length, fileEnd - pos);
    this.length = readSync(segment.fd, this.buf, 0, want, pos - segment.base);
    this.start = pos;
    this.segment = segment;
    return this.length >= bytes ? 0 : -1;
  }

  get view(): Buffer {
    return this.buf;
  }
}

export function scanLog(segments: readonly Segment[], segmentBytes: number, start: number, visit: RecordVisitor): ScanResult {
  const reader = new ChunkReader();
  let records = 0;
  let pos = start;
  const first = segments.findIndex((s) => start >= s.base && start < s.base + segmentBytes);
  if (first < 0) return { end: start, corruption: null, records };
  for (let i = first; i < segments.length; i++) {
    const segment = segments[i];
    const isLast = i === segments.length - 1;
    const segmentEnd = segment.base + segmentBytes;
    const fileEnd = segment.base + segment.fileBytes();
    if (i > first) pos = segment.base;
    const stop = (reason: string): ScanResult => ({ end: pos, corruption: { offset: pos, reason }, records });
    // The log may end only where the last file ends; anything after the last whole record is torn.
    const endHere = (reason: string): ScanResult =>
      isLast && pos >= fileEnd ? { end: pos, corruption: null, records } : stop(reason);
    while (segmentEnd - pos >= PREFIX_BYTES) {
      const at = reader.load(segment, fileEnd, pos, PREFIX_BYTES);
      if (at < 0) return endHere(isLast ? 'torn record: the file ends inside its prefix' : 'segment ends without a filler');
      const prefix = readPrefix(reader.view, at);
      if (prefix.kind === 'empty') return endHere('zeros where a record or filler should be');
      if (prefix.kind === 'bad') return stop(prefix.reason);
      if (pos + prefix.totalBytes > segmentEnd) return stop('record crosses the segment end');
      if (prefix.kind === 'filler') {
        if (pos + prefix.totalBytes !== segmentEnd) return stop('filler does not reach the segment end');
        pos = segmentEnd;
        break;
      }
      const recordAt = reader.load(segment, fileEnd, pos, prefix.totalBytes);
      if (recordAt < 0) return stop('torn record: the file ends inside it');
      const bad = checkRecord(reader.view, recordAt, pos);
      if (bad) return stop(bad);
      visit(reader.view, recordAt, pos);
      records++;
      pos += prefix.totalBytes;
    }
    if (isLast && pos < fileEnd && pos < segmentEnd) return stop('bytes after the last record of the segment');
    pos = segmentEnd;
  }
  return { end: pos, corruption: null, records };
}
