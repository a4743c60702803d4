import { closeSync, constants, fdatasync, fstatSync, ftruncateSync, mkdirSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StorageError } from '../errors';
import { fsyncDirSync } from '../io/fsync-dir';
import { listSegmentBases, segmentName } from '../io/segment-names';
import { ENTRY_BYTES, readEntry, writeEntry, type CqEntry } from './cq-entry';

/**
 * One consume queue: the entries of (topic, queueId) in segment files of `entriesPerSegment`
 * entries (layout: cq-entry.ts). Entry n is found in O(1): file ⌊n / entriesPerSegment⌋, byte
 * (n mod entriesPerSegment) × ENTRY_BYTES. Entries are batched by the dispatcher and written with
 * one positional write per queue per batch (page cache; synced at checkpoints).
 */

interface CqSegment {
  readonly base: number;
  readonly path: string;
  readonly fd: number;
}

const EMPTY = Buffer.alloc(0);

export class ConsumeQueue {
  private readonly segments: CqSegment[] = [];
  private readonly dirty = new Set<CqSegment>();
  private pending = Buffer.allocUnsafe(ENTRY_BYTES * 64);
  private pendingCount = 0;
  private pendingFrom = 0;
  /** Next QueueOffset to be written: one past the last entry. */
  private next = 0;
  private min = 0;

  constructor(
    readonly topic: string,
    readonly queueId: number,
    private readonly dir: string,
    private readonly entriesPerSegment: number,
  ) {
    mkdirSync(dir, { recursive: true });
    for (const base of listSegmentBases(dir)) this.segments.push(this.openSegment(base, false));
    this.next = this.recoverNext();
    this.min = this.segments.length > 0 ? this.firstEntryOffset() : 0;
  }

  /** Smallest QueueOffset with an entry (entries below it were deleted by retention). */
  get minOffset(): number {
    return this.min;
  }

  /** One past the largest QueueOffset written. */
  get maxOffset(): number {
    return this.pendingCount === 0 ? this.next : Math.max(this.next, this.pendingFrom + this.pendingCount);
  }

  /**
   * Adds the entry for `queueOffset`. Contiguous puts are batched into one write. The normal case
   * appends; an offset below the end rewrites its slot (recovery re-dispatches entries that may
   * already be there); one above the end leaves a hole.
   */
  put(queueOffset: number, physicalOffset: number, totalBytes: number, tagHash: number): void {
    if (this.pendingCount === 0 || queueOffset !== this.pendingFrom + this.pendingCount) {
      this.commit();
      this.pendingFrom = queueOffset;
      const empty = this.next === this.min;
      if (empty || queueOffset < this.min) this.min = queueOffset;
    }
    if ((this.pendingCount + 1) * ENTRY_BYTES > this.pending.length) {
      const bigger = Buffer.allocUnsafe(this.pending.length * 2);
      this.pending.copy(bigger, 0, 0, this.pendingCount * ENTRY_BYTES);
      this.pending = bigger;
    }
    writeEntry(this.pending, this.pendingCount * ENTRY_BYTES, physicalOffset, totalBytes, tagHash);
    this.pendingCount++;
  }

  /** Writes the entries put since the last commit (one positional write per segment touched). */
  commit(): void {
    if (this.pendingCount === 0) return;
    const count = this.pendingCount;
    this.pendingCount = 0;
    this.next = Math.max(this.next, this.pendingFrom + count);
    this.writeAt(this.pendingFrom, this.pending.subarray(0, count * ENTRY_BYTES));
  }

  /** Up to `maxCount` entries from `from`, within one segment, in one read. Holes are skipped. */
  read(from: number, maxCount: number): CqEntry[] {
    this.commit();
    if (from < this.min) from = this.min;
    if (from >= this.next || maxCount <= 0) return [];
    const segment = this.segmentOf(from);
    if (!segment) return [];
    const count = Math.min(maxCount, this.next - from, segment.base + this.entriesPerSegment - from);
    const buf = Buffer.allocUnsafe(count * ENTRY_BYTES);
    const got = readSync(segment.fd, buf, 0, buf.length, (from - segment.base) * ENTRY_BYTES);
    const out: CqEntry[] = [];
    for (let i = 0; (i + 1) * ENTRY_BYTES <= got; i++) {
      const entry = readEntry(buf, i * ENTRY_BYTES, from + i);
      if (entry.totalBytes > 0) out.push(entry);
    }
    return out;
  }

  /** The entry at `queueOffset`, or undefined for a hole or an offset out of range. */
  entry(queueOffset: number): CqEntry | undefined {
    const [e] = this.read(queueOffset, 1);
    return e && e.queueOffset === queueOffset ? e : undefined;
  }

  /**
   * The first QueueOffset whose message was stored at or after `timestampMs` (maxOffset if none):
   * a binary search that reads each probe's store time through `storeTimestampOf`.
   */
  offsetAtTime(timestampMs: number, storeTimestampOf: (e: CqEntry) => number | undefined): number {
    let lo = this.min;
    let hi = this.maxOffset;
    while (lo < hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const e = this.entry(mid);
      const ts = e ? storeTimestampOf(e) : undefined;
      if (ts === undefined || ts < timestampMs) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Drops entries that point at or past `logEnd` (the commit log was cut there). */
  truncateTo(logEnd: number): number {
    this.commit();
    let cut = 0;
    while (this.next > this.min) {
      const e = this.readRaw(this.next - 1);
      if (e.totalBytes > 0 && e.physicalOffset + e.totalBytes <= logEnd) break;
      this.next--;
      cut++;
    }
    if (cut > 0) this.truncateFiles();
    return cut;
  }

  /** Deletes whole segments whose entries all point below `logMin`; never the last segment. */
  deleteBelow(logMin: number): number {
    this.commit();
    let deleted = 0;
    while (this.segments.length > 1) {
      const first = this.segments[0];
      const last = this.readRaw(first.base + this.entriesPerSegment - 1);
      if (last.totalBytes > 0 && last.physicalOffset + last.totalBytes > logMin) break;
      this.segments.shift();
      this.dirty.delete(first);
      closeSync(first.fd);
      unlinkSync(first.path);
      deleted++;
    }
    if (deleted > 0) this.min = this.firstEntryOffset();
    while (this.min < this.next) {
      const e = this.readRaw(this.min);
      if (e.totalBytes > 0 && e.physicalOffset >= logMin) break;
      this.min++;
    }
    return deleted;
  }

  /** fdatasync every segment written since the last sync. */
  async sync(): Promise<void> {
    this.commit();
    const segments = [...this.dirty];
    this.dirty.clear();
    await Promise.all(
      segments.map((s) => new Promise<void>((ok, ko) => fdatasync(s.fd, (e) => (e ? ko(ioError('fdatasync', e)) : ok())))),
    );
  }

  close(): void {
    for (const s of this.segments) closeSync(s.fd);
    this.segments.length = 0;
  }

  private writeAt(queueOffset: number, entries: Buffer): void {
    let offset = queueOffset;
    let at = 0;
    while (at < entries.length) {
      const segment = this.segmentFor(offset);
      const room = (segment.base + this.entriesPerSegment - offset) * ENTRY_BYTES;
      const part = entries.subarray(at, at + Math.min(room, entries.length - at));
      try {
        writeSync(segment.fd, part, 0, part.length, (offset - segment.base) * ENTRY_BYTES);
      } catch (e) {
        throw ioError('write', e);
      }
      this.dirty.add(segment);
      at += part.length;
      offset += part.length / ENTRY_BYTES;
    }
  }

  private readRaw(queueOffset: number): CqEntry {
    const segment = this.segmentOf(queueOffset);
    const buf = Buffer.alloc(ENTRY_BYTES);
    if (segment) readSync(segment.fd, buf, 0, ENTRY_BYTES, (queueOffset - segment.base) * ENTRY_BYTES);
    return readEntry(buf, 0, queueOffset);
  }

  private segmentOf(queueOffset: number): CqSegment | undefined {
    const base = queueOffset - (queueOffset % this.entriesPerSegment);
    for (let i = this.segments.length - 1; i >= 0; i--) {
      if (this.segments[i].base === base) return this.segments[i];
      if (this.segments[i].base < base) break;
    }
    return undefined;
  }

  private segmentFor(queueOffset: number): CqSegment {
    const existing = this.segmentOf(queueOffset);
    if (existing) return existing;
    const segment = this.openSegment(queueOffset - (queueOffset % this.entriesPerSegment), true);
    this.segments.push(segment);
    this.segments.sort((a, b) => a.base - b.base);
    return segment;
  }

  private openSegment(base: number, create: boolean): CqSegment {
    const path = join(this.dir, segmentName(base));
    return { base, path, fd: openSync(path, constants.O_RDWR | (create ? constants.O_CREAT : 0), 0o644) };
  }

  /** One past the last non-empty entry of the last segment. */
  private recoverNext(): number {
    const last = this.segments[this.segments.length - 1];
    if (!last) return 0;
    let next = last.base + Math.floor(fstatSync(last.fd).size / ENTRY_BYTES);
    while (next > last.base && this.readRaw(next - 1).totalBytes === 0) next--;
    return next;
  }

  private firstEntryOffset(): number {
    const first = this.segments[0];
    const bytes = Math.min(fstatSync(first.fd).size, this.entriesPerSegment * ENTRY_BYTES);
    const buf = bytes > 0 ? Buffer.allocUnsafe(bytes) : EMPTY;
    const got = bytes > 0 ? readSync(first.fd, buf, 0, bytes, 0) : 0;
    for (let i = 0; (i + 1) * ENTRY_BYTES <= got; i++) {
      if (buf.readInt32BE(i * ENTRY_BYTES + 8) > 0) return first.base + i;
    }
    return first.base + Math.floor(got / ENTRY_BYTES);
  }

  /** Cuts the files at `next`; the next sync makes the cut durable (deleted files: at once). */
  private truncateFiles(): void {
    let deleted = false;
    while (this.segments.length > 0 && this.segments[this.segments.length - 1].base >= this.next) {
      const s = this.segments.pop() as CqSegment;
      this.dirty.delete(s);
      closeSync(s.fd);
      unlinkSync(s.path);
      deleted = true;
    }
    const last = this.segments[this.segments.length - 1];
    if (last) {
      ftruncateSync(last.fd, (this.next - last.base) * ENTRY_BYTES);
      this.dirty.add(last);
    }
    if (deleted) fsyncDirSync(this.dir);
    if (this.next <= this.min) this.min = this.next;
  }
}

function ioError(op: string, cause: unknown): StorageError {
  return new StorageError('IO_ERROR', `consume queue ${op} failed: ${(cause as Error).message}`, { cause });
}
