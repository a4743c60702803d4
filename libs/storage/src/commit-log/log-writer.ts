import { fdatasync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { BatchPool } from '../io/batch-pool';
import { WaiterQueue } from '../io/waiter-queue';
import { StorageError } from '../errors';
import type { Segment } from './segment';
import { WriteWorker } from './write-worker';

/**
 * The commit log's write path, as NODE-PERFORMANCE.md §1–3 measured it:
 * - records are encoded in place into a pooled batch buffer (the caller encodes; we hand out space),
 *   without their CRC: the write thread stamps it before it writes (write-worker.ts);
 * - every buffer sealed in one event-loop turn goes out in one positional `writev`, at most
 *   `maxBatchBytes` per call and WRITES_IN_FLIGHT calls queued at the write thread (so it starts
 *   the next batch without waiting for the event loop's turn, and a slow write does not stall
 *   encoding); `writtenEnd` moves only over a written prefix, in order. A crash can leave a later batch on disk behind a hole: recovery stops at the
 *   first zeros and cuts what follows (log-scanner.ts), and none of it was acknowledged;
 * - syncs are `fdatasync` with a callback, pipelined with writes; one sync covers every byte whose
 *   write had returned when it started (group commit);
 * - a failed or short write or sync is sticky: every waiter and every later append fails.
 */

/** writev calls in flight at once (queued at the write thread). */
const WRITES_IN_FLIGHT = 4;

interface Chunk {
  readonly segment: Segment;
  readonly position: number; // PhysicalOffset of chunk byte 0
  readonly bytes: Buffer; // a view of a BatchPool buffer: it moves to the write thread
}

/** One writev call (contiguous chunks of one segment): where it ends and whether it has returned. */
interface Write {
  readonly segment: Segment;
  readonly end: number;
  done: boolean;
}

export interface LogWriterHooks {
  /** Every byte before `writtenEnd` is written (in the page cache): dispatch up to there. */
  readonly onWritten: (writtenEnd: number) => void;
  /** The first I/O failure; the writer is read-only from now on. */
  readonly onFailed: (err: StorageError) => void;
  /** Every byte before `syncedEnd` is durable; the fdatasync round took `durationMs` (flush latency). */
  readonly onSynced?: (syncedEnd: number, durationMs: number) => void;
}

export class LogWriter {
  private readonly pool: BatchPool;
  private readonly io = new WriteWorker();
  private current: Buffer | null = null;
  private currentSegment: Segment | null = null;
  private currentStart = 0;
  private currentUsed = 0;
  private readonly pending: Chunk[] = [];
  private flushScheduled = false;
  private syncing = false;
  private readonly dirtySegments = new Set<Segment>();
  private syncingSegments: readonly Segment[] = [];
  /** writev calls issued and not yet passed by `writtenEnd`, oldest first. */
  private readonly writes: Write[] = [];
  private readonly writeWaiters = new WaiterQueue();
  private readonly syncWaiters = new WaiterQueue();
  private failure: StorageError | null = null;
  private dirtyRequested = false;
  /** Segment tails skipped by `skip`, oldest first: `writtenEnd` passes each once it reaches `from`. */
  private readonly skips: { readonly from: number; readonly to: number }[] = [];
  appendedEnd: number;
  writtenEnd: number;
  syncedEnd: number;

  constructor(
    start: number,
    private readonly maxBatchBytes: number,
    private readonly hooks: LogWriterHooks,
  ) {
    this.appendedEnd = this.writtenEnd = this.syncedEnd = start;
    this.pool = new BatchPool(maxBatchBytes, 8);
  }

  get failed(): StorageError | null {
    return this.failure;
  }

  /**
   * Space for `bytes` at the end of the log, in `segment` (the caller has rolled segments already).
   * Returns the index to encode at in `reservedBuffer`; the bytes count as appended.
   */
  reserve(segment: Segment, bytes: number): number {
    if (this.current && (this.currentSegment !== segment || this.current.length - this.currentUsed < bytes)) {
      this.seal();
    }
    if (!this.current) {
      this.current = this.pool.take(bytes);
      this.currentSegment = segment;
      this.currentStart = this.appendedEnd;
      this.currentUsed = 0;
    }
    const at = this.currentUsed;
    this.currentUsed += bytes;
    this.appendedEnd += bytes;
    this.schedule();
    return at;
  }

  /** The buffer the last reserve() handed out space in (valid until the next reserve). */
  get reservedBuffer(): Buffer {
    return this.current as Buffer;
  }

  /**
   * Lets go of `segment` so that it can be deleted: false while a write or sync of it is queued or
   * running (try again later); otherwise it is no longer synced and true is returned.
   */
  letGo(segment: Segment): boolean {
    const busy =
      this.currentSegment === segment ||
      this.writes.some((w) => w.segment === segment) ||
      this.syncingSegments.includes(segment) ||
      this.pending.some((c) => c.segment === segment);
    if (!busy) this.dirtySegments.delete(segment);
    return !busy;
  }

  /**
   * Moves the append position to `offset` (the next segment's base) without writing the gap. Once
   * every byte before the gap is written, `writtenEnd` (and what waits on it) passes the gap too,
   * so a log whose last bytes are a segment-end filler ends at the next segment's base.
   */
  skip(offset: number): void {
    this.seal();
    this.skips.push({ from: this.appendedEnd, to: offset });
    this.appendedEnd = offset;
    if (this.passSkips()) this.writeWaiters.releaseUpTo(this.writtenEnd);
  }

  /**
   * Moves every position back to `offset` (the log was cut there). Only when idle: nothing
   * reserved, written or synced is still to come (drain first), else it throws and changes nothing.
   */
  resetTo(offset: number): void {
    const busy = this.current || this.pending.length > 0 || this.writes.length > 0 || this.syncing;
    if (busy || this.writeWaiters.size > 0 || this.syncWaiters.size > 0 || this.appendedEnd !== this.syncedEnd) {
      throw new StorageError('IO_ERROR', 'the commit log cannot be cut while writes are in flight');
    }
    this.skips.length = 0;
    this.dirtySegments.clear();
    this.dirtyRequested = false;
    this.appendedEnd = this.writtenEnd = this.syncedEnd = offset;
  }

  /** Resolves with `value` once the bytes before `end` are written (ASYNC acknowledgement). */
  whenWritten<T>(end: number, value: T): Promise<T> {
    return this.wait(end, value, this.writtenEnd, this.writeWaiters);
  }

  /** Resolves with `value` once the bytes before `end` are on disk (SYNC acknowledgement). */
  whenSynced<T>(end: number, value: T): Promise<T> {
    const p = this.wait(end, value, this.syncedEnd, this.syncWaiters);
    this.kickSync();
    return p;
  }

  /** Starts a sync of everything written so far, if there is anything (ASYNC flush). */
  requestSync(): void {
    if (this.writtenEnd > this.syncedEnd) this.dirtyRequested = true;
    this.kickSync();
  }

  /** Resolves when everything appended so far is written and synced. */
  async drain(): Promise<void> {
    const end = this.appendedEnd;
    await this.whenWritten(end, undefined);
    this.dirtyRequested = true;
    await this.whenSynced(end, undefined);
  }

  /** Stops the write thread; call once drained (or failed). */
  close(): Promise<void> {
    return this.io.close();
  }

  private wait<T>(end: number, value: T, reached: number, queue: WaiterQueue): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    if (end <= reached) return Promise.resolve(value);
    return queue.add(end, value);
  }

  /** Moves `writtenEnd` over every skipped gap it has reached; true when it moved. */
  private passSkips(): boolean {
    let moved = false;
    while (this.skips.length > 0 && this.skips[0].from === this.writtenEnd) {
      this.writtenEnd = (this.skips.shift() as { to: number }).to;
      moved = true;
    }
    return moved;
  }

  private schedule(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flush);
  }

  private seal(): void {
    if (!this.current || !this.currentSegment) return;
    if (this.currentUsed > 0) {
      this.pending.push({
        segment: this.currentSegment,
        position: this.currentStart,
        bytes: this.current.subarray(0, this.currentUsed),
      });
    } else {
      this.pool.give(this.current);
    }
    this.current = null;
    this.currentSegment = null;
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.failure) return;
    this.seal();
    while (this.writes.length < WRITES_IN_FLIGHT && this.pending.length > 0) this.startWrite();
  };

  /** Issues one writev of the oldest pending chunks: contiguous, one segment, ≤ maxBatchBytes. */
  private startWrite(): void {
    const first = this.pending[0];
    let n = 0;
    let bytes = 0;
    while (n < this.pending.length) {
      const c = this.pending[n];
      const contiguous = c.segment === first.segment && c.position === first.position + bytes;
      if (n > 0 && (!contiguous || bytes + c.bytes.length > this.maxBatchBytes)) break;
      bytes += c.bytes.length;
      n++;
    }
    const write: Write = { segment: first.segment, end: first.position + bytes, done: false };
    this.writes.push(write);
    const buffers = this.pending.splice(0, n).map((c) => c.bytes);
    this.io.writev(first.segment.fd, buffers, first.position - first.segment.base, (err, written, returned) => {
      for (const buffer of returned) this.pool.give(buffer);
      if (this.failure) return;
      if (err || written !== bytes) {
        this.fail(err ?? new Error(`short write: ${written} of ${bytes} bytes`), 'write');
        return;
      }
      write.done = true;
      this.passWritten();
    });
  }

  /** Moves `writtenEnd` over the writes that returned, in log order, and lets their waiters go. */
  private passWritten(): void {
    let moved = false;
    while (this.writes.length > 0 && this.writes[0].done) {
      const write = this.writes.shift() as Write;
      this.dirtySegments.add(write.segment);
      this.writtenEnd = write.end;
      this.passSkips();
      moved = true;
    }
    if (!moved) return;
    this.hooks.onWritten(this.writtenEnd);
    this.writeWaiters.releaseUpTo(this.writtenEnd);
    this.kickSync();
    if (this.pending.length > 0 || this.current) this.schedule();
  }

  private kickSync(): void {
    if (this.syncing || this.failure || this.writtenEnd <= this.syncedEnd) return;
    if (this.syncWaiters.size === 0 && !this.dirtyRequested) return;
    this.dirtyRequested = false;
    const target = this.writtenEnd;
    const segments = [...this.dirtySegments];
    this.dirtySegments.clear();
    this.syncing = true;
    this.syncingSegments = segments;
    const started = performance.now();
    const next = (i: number): void => {
      if (i === segments.length) {
        this.syncing = false;
        this.syncingSegments = [];
        this.syncedEnd = target;
        this.hooks.onSynced?.(target, performance.now() - started);
        this.syncWaiters.releaseUpTo(target);
        this.kickSync();
        return;
      }
      fdatasync(segments[i].fd, (err) => (err ? this.fail(err, 'fdatasync') : next(i + 1)));
    };
    next(0);
  }

  private fail(cause: Error, op: string): void {
    this.syncing = false;
    if (this.failure) return;
    this.failure = new StorageError('IO_ERROR', `commit log ${op} failed; the store is read-only: ${cause.message}`, {
      cause,
    });
    this.writeWaiters.rejectAll(this.failure);
    this.syncWaiters.rejectAll(this.failure);
    this.pending.length = 0;
    this.writes.length = 0;
    this.hooks.onFailed(this.failure);
  }
}
