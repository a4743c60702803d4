import { mkdirSync, readSync } from 'node:fs';
import {
  checkRecord,
  decodeRecord,
  encodeFiller,
  encodeRecord,
  readPrefix,
  type PhysicalOffset,
  type PreparedRecord,
  type StoredMessage,
} from '../codec/record-codec';
import { PREFIX_BYTES } from '../codec/record-layout';
import { StorageError } from '../errors';
import { fsyncDirSync } from '../io/fsync-dir';
import { listSegmentBases } from '../io/segment-names';
import { cutLogAt, type LogCut } from './log-cut';
import { LogPager, type LogPage, type PageLimits, type PageVisitor } from './log-pager';
import { checkReplicatedChunk, pastShortTail, readLogChunk, type LogChunk } from './log-replica';
import { LogWriter, type LogWriterHooks } from './log-writer';
import { scanLog, type Corruption, type RecordVisitor } from './log-scanner';
import { Segment } from './segment';

/**
 * The commit log: every topic's messages appended to one log of fixed-size segment files named by
 * their 20-digit base PhysicalOffset (format: docs/formats/commit-log.md). A record never spans
 * segments: when one does not fit, the rest of the segment gets a filler and the next segment
 * starts. Only written bytes are readable; every read checks the record's CRC.
 */

export type FlushMode = 'SYNC' | 'ASYNC';

/** Where a record lies: a consume-queue entry's offset and size. */
export interface RecordSpan {
  readonly physicalOffset: PhysicalOffset;
  readonly totalBytes: number;
}

/** readMany reads back-to-back records with one read of at most this many bytes. */
const READ_RUN_MAX_BYTES = 256 * 1024;

export interface CommitLogOptions {
  readonly dir: string;
  readonly segmentBytes: number;
  readonly flushMode: FlushMode;
  readonly flushIntervalMs: number;
  readonly flushDirtyBytes: number;
  readonly maxBatchBytes: number;
}

export interface LogRecovery {
  /** Where the scan started (a record boundary known to be intact). */
  readonly scannedFrom: PhysicalOffset;
  readonly end: PhysicalOffset;
  readonly records: number;
  /** What was cut: from `corruption.offset` on, `bytesCut` bytes in `segmentsDeleted` + 1 files. */
  readonly corruption: Corruption | null;
  readonly bytesCut: number;
  readonly segmentsDeleted: number;
}

export class CommitLog {
  private readonly segments: Segment[];
  private readonly writer: LogWriter;
  private readonly flushTimer: NodeJS.Timeout | null = null;
  private readonly pager = new LogPager();
  private closed = false;

  private constructor(
    private readonly options: CommitLogOptions,
    segments: Segment[],
    end: PhysicalOffset,
    hooks: LogWriterHooks,
  ) {
    this.segments = segments;
    this.writer = new LogWriter(end, options.maxBatchBytes, {
      ...hooks,
      onWritten: (writtenEnd) => {
        hooks.onWritten(writtenEnd);
        if (this.writer.writtenEnd - this.writer.syncedEnd >= options.flushDirtyBytes) this.writer.requestSync();
      },
    });
    if (options.flushMode === 'ASYNC') {
      this.flushTimer = setInterval(() => this.writer.requestSync(), options.flushIntervalMs);
      this.flushTimer.unref();
    }
  }

  /**
   * Opens the log, scanning from `scanFrom` (a record boundary known to be intact, e.g. from the
   * checkpoint); every intact record after it is passed to `visit`. A torn or corrupt tail is
   * truncated and reported.
   */
  static open(
    options: CommitLogOptions,
    scanFrom: PhysicalOffset,
    visit: RecordVisitor,
    hooks: LogWriterHooks,
  ): { log: CommitLog; recovery: LogRecovery } {
    mkdirSync(options.dir, { recursive: true });
    const segments = listSegmentBases(options.dir).map((base) => Segment.open(options.dir, base, false));
    // A crash between creating the next segment and writing into it leaves an empty file: it holds nothing.
    while (segments.length > 1 && segments[segments.length - 1].fileBytes() === 0) (segments.pop() as Segment).delete();
    const min = segments.length > 0 ? segments[0].base : 0;
    const from = Math.max(scanFrom, min);
    const scan = segments.length > 0 ? scanLog(segments, options.segmentBytes, from, visit) : null;
    const end = scan ? scan.end : from;
    const cut = scan?.corruption ? cutLogAt(options.dir, segments, options.segmentBytes, end) : null;
    const log = new CommitLog(options, segments, end, hooks);
    const recovery: LogRecovery = {
      scannedFrom: from,
      end,
      records: scan?.records ?? 0,
      corruption: scan?.corruption ?? null,
      bytesCut: cut?.bytesCut ?? 0,
      segmentsDeleted: cut?.segmentsDeleted ?? 0,
    };
    return { log, recovery };
  }

  get minOffset(): PhysicalOffset {
    return this.segments.length > 0 ? this.segments[0].base : this.writer.writtenEnd;
  }

  /** End of the readable (written) log. */
  get maxOffset(): PhysicalOffset {
    return this.writer.writtenEnd;
  }

  /** End of what is on disk (fdatasync done). */
  get syncedOffset(): PhysicalOffset {
    return this.writer.syncedEnd;
  }

  get failure(): StorageError | null {
    return this.writer.failed;
  }

  get segmentBytes(): number {
    return this.options.segmentBytes;
  }

  /** Throws unless an append can be accepted now. */
  checkWritable(): void {
    if (this.closed) throw new StorageError('STORE_CLOSED', 'the store is closed');
    const failed = this.writer.failed;
    if (failed) {
      throw new StorageError('STORAGE_READ_ONLY', `the store is read-only after an I/O error: ${failed.message}`, {
        cause: failed,
      });
    }
  }

  /** Encodes the record at the end of the log and returns its PhysicalOffset. Call checkWritable first. */
  append(prepared: PreparedRecord, queueOffset: number, storeTimestampMs: number): PhysicalOffset {
    const totalBytes = prepared.totalBytes;
    if (totalBytes > this.options.segmentBytes) {
      throw new StorageError('MESSAGE_TOO_LARGE', `record of ${totalBytes} bytes exceeds the segment size`);
    }
    const segment = this.segmentFor(totalBytes);
    const physicalOffset = this.writer.appendedEnd;
    const at = this.writer.reserve(segment, totalBytes);
    encodeRecord(this.writer.reservedBuffer, at, prepared, queueOffset, physicalOffset, storeTimestampMs, false); // the writer stamps the CRC
    this.skipShortTail();
    return physicalOffset;
  }

  /**
   * A segment tail too short for a filler prefix is never written: skip it now, so that the log's
   * end (live, and as recovery finds it) is the next segment's base, and master and slave agree.
   */
  private skipShortTail(): void {
    const end = this.writer.appendedEnd;
    const next = pastShortTail(end, this.options.segmentBytes);
    if (next !== end) this.writer.skip(next);
  }

  /** Resolves with `value` when the record ending at `end` may be acknowledged under the flush mode. */
  whenDurable<T>(end: PhysicalOffset, value: T): Promise<T> {
    return this.options.flushMode === 'SYNC' ? this.writer.whenSynced(end, value) : this.writer.whenWritten(end, value);
  }

  /** Reads and checks the record at `offset`; `size` (from a consume-queue entry) saves a read. */
  read(offset: PhysicalOffset, size?: number): StoredMessage {
    const buf = this.readChecked(offset, size);
    return decodeRecord(buf, 0);
  }

  /** The raw, CRC-checked bytes of the record at `offset`. */
  readChecked(offset: PhysicalOffset, size?: number): Buffer {
    const segment = this.segmentAt(this.checkReadable(offset));
    const bytes = size ?? this.recordSizeAt(segment, offset);
    return this.readRun(segment, [{ physicalOffset: offset, totalBytes: bytes }]);
  }

  /**
   * The records at `spans` (consume-queue entries: offset and size), each CRC-checked, in the
   * order given. Records that lie back to back in one segment (a queue's messages of one batch do)
   * are read with one `readSync` per run of at most READ_RUN_MAX_BYTES.
   */
  readMany(spans: readonly RecordSpan[]): StoredMessage[] {
    const out: StoredMessage[] = [];
    for (let i = 0; i < spans.length; ) {
      const first = spans[i].physicalOffset;
      const segment = this.segmentAt(this.checkReadable(first));
      const segmentEnd = segment.base + this.options.segmentBytes;
      let end = first + spans[i].totalBytes;
      let j = i + 1;
      while (j < spans.length && spans[j].physicalOffset === end && end + spans[j].totalBytes <= segmentEnd && end + spans[j].totalBytes - first <= READ_RUN_MAX_BYTES) {
        end += spans[j].totalBytes;
        j++;
      }
      const run = spans.slice(i, j);
      const buf = this.readRun(segment, run);
      for (const span of run) out.push(decodeRecord(buf, span.physicalOffset - first));
      i = j;
    }
    return out;
  }

  private checkReadable(offset: PhysicalOffset): PhysicalOffset {
    if (offset >= this.writer.writtenEnd) throw this.outOfRange(offset);
    return offset;
  }

  /** Reads `run` (records back to back in `segment`) with one read and checks each record; CORRUPT_RECORD for the first bad one. */
  private readRun(segment: Segment, run: readonly RecordSpan[]): Buffer {
    const from = run[0].physicalOffset;
    const last = run[run.length - 1];
    const bytes = last.physicalOffset + last.totalBytes - from;
    const fits = from + bytes <= this.writer.writtenEnd && from + bytes <= segment.base + this.options.segmentBytes;
    if (!fits || run.some((r) => r.totalBytes < PREFIX_BYTES)) {
      const claimed = run.find((r) => r.totalBytes < PREFIX_BYTES) ?? last;
      throw new StorageError('CORRUPT_RECORD', `record at PhysicalOffset ${claimed.physicalOffset} claims ${claimed.totalBytes} bytes, past the end of the log`);
    }
    const buf = Buffer.allocUnsafe(bytes);
    const got = readSync(segment.fd, buf, 0, bytes, from - segment.base);
    for (const { physicalOffset, totalBytes } of run) {
      const at = physicalOffset - from;
      const prefix = got >= at + PREFIX_BYTES ? readPrefix(buf, at) : null;
      const bad =
        got < at + totalBytes || prefix?.kind !== 'message' || prefix.totalBytes !== totalBytes
          ? 'record size does not match'
          : checkRecord(buf, at, physicalOffset);
      if (bad) throw new StorageError('CORRUPT_RECORD', `record at PhysicalOffset ${physicalOffset} is corrupt (${bad})`);
    }
    return buf;
  }

  /**
   * Visits the written records from `from` (a record boundary in [minOffset, maxOffset]) in log
   * order, at most `limits`; see LogPager. Throws OFFSET_OUT_OF_RANGE outside that range.
   */
  readPage(from: PhysicalOffset, limits: PageLimits, visit: PageVisitor): LogPage {
    if (from < this.minOffset || from > this.writer.writtenEnd) throw this.outOfRange(from);
    const log = { segments: this.segments, segmentBytes: this.options.segmentBytes, writtenEnd: this.writer.writtenEnd };
    return this.pager.read(log, from, limits, visit);
  }

  /** Master side of replication: whole records of the written log from `from` (see log-replica.ts). */
  readReplicaChunk(from: PhysicalOffset, maxBytes: number): LogChunk {
    const log = { segments: this.segments, segmentBytes: this.options.segmentBytes, minOffset: this.minOffset, writtenEnd: this.writer.writtenEnd };
    return readLogChunk(log, from, maxBytes);
  }

  /**
   * Slave side of replication: checks `bytes` (read by the master at `from`), then appends them
   * as they are, rolling segments where the master did; `visit` sees each message record, in log
   * order. Returns the new end: what to pass to whenDurable. Call checkWritable first.
   */
  appendReplicated(from: PhysicalOffset, bytes: Buffer, visit: (buf: Buffer, at: number) => void): PhysicalOffset {
    const size = this.options.segmentBytes;
    const end = this.writer.appendedEnd;
    const start = pastShortTail(end, size);
    if (pastShortTail(from, size) !== start) {
      throw new StorageError(
        'REPLICA_OFFSET_MISMATCH',
        `replicated bytes start at PhysicalOffset ${from} but this log ends at ${end}; nothing was appended`,
      );
    }
    if (bytes.length === 0) return end;
    const chunk = checkReplicatedChunk(bytes, start, size);
    for (const r of chunk.records) {
      const segment = this.segmentFor(r.totalBytes); // rolls only at the chunk's first record
      const at = this.writer.reserve(segment, r.totalBytes);
      bytes.copy(this.writer.reservedBuffer, at, r.at, r.at + r.totalBytes);
      visit(bytes, r.at);
    }
    if (chunk.fillerAt >= 0) {
      const at = this.writer.reserve(this.segmentFor(PREFIX_BYTES), PREFIX_BYTES);
      bytes.copy(this.writer.reservedBuffer, at, chunk.fillerAt, chunk.fillerAt + PREFIX_BYTES);
      this.writer.skip(chunk.segmentEnd);
    }
    this.skipShortTail();
    return this.writer.appendedEnd;
  }

  /** Resolves when every append so far is written and fdatasync'ed (rejects after an I/O failure). */
  drain(): Promise<void> {
    return this.writer.drain();
  }

  /**
   * Checks that the log may be cut back to `to`: a record (or filler) boundary in [minOffset,
   * end], else OFFSET_OUT_OF_RANGE / INVALID_OFFSET. Returns it, moved past a segment tail too
   * short for a filler (the same position, as for replication). Bytes still in flight cannot be
   * checked yet: call again once drained.
   */
  truncationPoint(to: PhysicalOffset): PhysicalOffset {
    const size = this.options.segmentBytes;
    const end = this.writer.appendedEnd;
    if (!Number.isSafeInteger(to) || to < this.minOffset || to > pastShortTail(end, size)) {
      throw new StorageError(
        'OFFSET_OUT_OF_RANGE',
        `cannot truncate the log to PhysicalOffset ${to}: outside the log [${this.minOffset}, ${end}]`,
      );
    }
    const at = pastShortTail(to, size);
    if (at < this.writer.writtenEnd) this.readReplicaChunk(at, 1); // INVALID_OFFSET unless a record starts there
    return at;
  }

  /**
   * Cuts the log back to `to` (from truncationPoint, with nothing in flight: drain first) durably,
   * as recovery cuts a torn tail (log-cut.ts), and moves the append position there.
   */
  truncateTail(to: PhysicalOffset): LogCut {
    if (to < this.minOffset) throw this.outOfRange(to);
    this.writer.resetTo(to);
    return cutLogAt(this.options.dir, this.segments, this.options.segmentBytes, to);
  }

  /** The oldest segment unless it is the active one (the retention candidate). */
  oldestInactiveSegment(): Segment | undefined {
    return this.segments.length > 1 ? this.segments[0] : undefined;
  }

  /** Deletes the oldest segment: never the active one, nor one with a write or sync to come. */
  deleteOldestSegment(): Segment | null {
    if (this.segments.length < 2 || !this.writer.letGo(this.segments[0])) return null;
    const oldest = this.segments.shift() as Segment;
    oldest.delete();
    return oldest;
  }

  /** Waits for every append to be written and synced, then closes the files. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.flushTimer) clearInterval(this.flushTimer);
    try {
      if (!this.writer.failed) await this.writer.drain();
    } finally {
      await this.writer.close();
      for (const s of this.segments) s.close();
    }
  }

  private recordSizeAt(segment: Segment, offset: PhysicalOffset): number {
    const prefix = Buffer.alloc(PREFIX_BYTES);
    readSync(segment.fd, prefix, 0, PREFIX_BYTES, offset - segment.base);
    const kind = readPrefix(prefix, 0);
    if (kind.kind !== 'message') {
      throw new StorageError('CORRUPT_RECORD', `no message record at PhysicalOffset ${offset} (${kind.kind})`);
    }
    return kind.totalBytes;
  }

  private segmentAt(offset: PhysicalOffset): Segment {
    const bytes = this.options.segmentBytes;
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = this.segments[mid];
      if (offset < s.base) hi = mid - 1;
      else if (offset >= s.base + bytes) lo = mid + 1;
      else return s;
    }
    throw this.outOfRange(offset);
  }

  private outOfRange(offset: PhysicalOffset): StorageError {
    return new StorageError(
      'OFFSET_OUT_OF_RANGE',
      `PhysicalOffset ${offset} is outside the log [${this.minOffset}, ${this.maxOffset})`,
    );
  }

  /** The segment the next record of `bytes` goes into, rolling (with a filler) when needed. */
  private segmentFor(bytes: number): Segment {
    const size = this.options.segmentBytes;
    const pos = this.writer.appendedEnd;
    let active = this.segments[this.segments.length - 1];
    if (active && pos + bytes <= active.base + size) return active;
    if (active && pos < active.base + size) {
      // Only the filler's prefix is written; the rest of the segment is skipped.
      const rest = active.base + size - pos;
      if (rest >= PREFIX_BYTES) {
        const at = this.writer.reserve(active, PREFIX_BYTES);
        encodeFiller(this.writer.reservedBuffer, at, rest);
      }
      this.writer.skip(active.base + size);
    }
    const base = active ? active.base + size : pos - (pos % size);
    active = Segment.open(this.options.dir, base, true);
    this.segments.push(active);
    if (this.options.flushMode === 'SYNC') fsyncDirSync(this.options.dir);
    return active;
  }
}
