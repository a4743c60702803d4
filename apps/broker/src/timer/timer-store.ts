/**
 * TimerStore: the broker's persistent timer for DELAY messages (doc §4.4, §5.7; format:
 * docs/formats/timer.md, timer-bucket-file.ts).
 *
 * The commit log stays the source of truth: a delayed send is a record of TIMER_TOPIC
 * (timer-message.ts). The TimerStore follows that topic's consume queue from its durable ingest
 * checkpoint and files each timer into the time bucket of its due time (one append-only file per
 * BUCKET_MS of due time), so memory holds only the bucket about to fire, in a min-heap. A tick
 * (every `tickMs`) fires what is due: reads each timer record, appends the message to its real
 * topic and queue, then moves the durable "fired up to" checkpoint. A recall appends a cancel
 * entry to the due bucket (fsynced before the answer).
 *
 * Checkpoints (MetaTable `timer-checkpoint`): `ingested` — the next QueueOffset of TIMER_TOPIC
 * not yet filed (moved only after the bucket files it wrote are fsynced), and `firedUpToMs` —
 * every timer due at or before it has fired or was recalled (moved only after the fired messages
 * are stored). Delivery is at-least-once: a crash after a fired message is stored but before the
 * checkpoint moves delivers it again after the restart (same message id). Timers due while the
 * broker was down fire right after it starts; timers filed after their due time has passed (a
 * slow ingest, or due times within a tick of the send) fire at once.
 *
 * Every operation (ingest, fire, recall) runs on one serial chain, so they never interleave.
 */
import { mkdir, readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { ApogeeError } from '@apogee/protocol';
import type { Clock, Logger } from '@apogee/runtime';
import { StorageError, type CqEntry, type MessageInput, type MessageStore, type MetaTable, type StoredMessage } from '@apogee/storage';
import { fsyncDirSync } from './fsync-dir';
import { DueHeap } from './due-heap';
import type { RecallHandle } from './recall-handle';
import {
  appendEntries,
  BUCKET_MS,
  bucketFileName,
  bucketStartOf,
  bucketStartOfFileName,
  ENTRY_BYTES,
  liveTimers,
  readBucketFile,
  repairBucketFile,
  type TimerEntry,
} from './timer-bucket-file';
import { firedInputOf, timerInfoOf, TIMER_QUEUE_ID, TIMER_TOPIC, type TimerRecordInfo } from './timer-message';

export const TIMER_CHECKPOINT_TABLE = 'timer-checkpoint';
const INGESTED_KEY = 'ingested';
const FIRED_UP_TO_KEY = 'firedUpToMs';
const DEFAULT_TICK_MS = 100;
/** Timers read from the system topic per ingest step. */
const INGEST_BATCH = 4096;
/** Messages appended per fire step (one appendBatch, one checkpoint write). */
const DEFAULT_FIRE_BATCH = 2048;
/** Fire steps per tick before yielding to the event loop (others' requests). */
const FIRE_STEPS_PER_TICK = 64;
/** An idle "fired up to" move is persisted at most this often (it only saves re-scanning). */
const IDLE_CHECKPOINT_MS = 1_000;

export type TimerMessageStore = Pick<
  MessageStore,
  'entries' | 'read' | 'appendBatch' | 'onDispatch' | 'queueRange' | 'minPhysicalOffset' | 'maxPhysicalOffset'
>;

export interface TimerStoreOptions {
  /** <dataDir>/timer: the bucket files. */
  readonly dir: string;
  readonly store: TimerMessageStore;
  readonly checkpoints: MetaTable<number>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly tickMs?: number;
  readonly fireBatch?: number;
  /** Called after each fired message is stored (benchmarks measure lateness with it). */
  readonly onFired?: (dueMs: number, storedAtMs: number) => void;
}

export class TimerStore {
  private ingested: number;
  private firedUpToMs: number;
  private persistedFiredUpToMs: number;
  private lastPersistAtMs = 0;
  /** Starts of the bucket files on disk, ascending. */
  private readonly buckets: number[];
  private loadedStart: number | undefined;
  private heap = new DueHeap();
  private cancelled = new Set<number>();
  /** Due times the send path told us of, by PhysicalOffset, until ingested (saves reading the record). */
  private readonly sentDues = new Map<number, number>();
  private serial: Promise<unknown> = Promise.resolve();
  private tickTimer: NodeJS.Timeout | undefined;
  private tickQueued = false;
  private ingestQueued = false;
  private unsubscribe: (() => void) | undefined;
  private closed = false;
  /** Not started, or paused (the broker is not master): nothing is ingested or fired. */
  private paused = true;

  private constructor(
    private readonly options: TimerStoreOptions,
    buckets: number[],
    ingested: number,
    firedUpToMs: number,
  ) {
    this.buckets = buckets;
    this.ingested = ingested;
    this.firedUpToMs = firedUpToMs;
    this.persistedFiredUpToMs = firedUpToMs;
  }

  /** Opens (after a crash: repairs) the bucket files and checkpoints; call start() to run. */
  static async open(options: TimerStoreOptions): Promise<TimerStore> {
    await mkdir(options.dir, { recursive: true });
    const { checkpoints, store, clock, logger } = options;
    const firedUpToMs = checkpoints.get(FIRED_UP_TO_KEY) ?? clock.now();
    const queueMin = store.queueRange(TIMER_TOPIC, TIMER_QUEUE_ID).min;
    const ingested = Math.max(checkpoints.get(INGESTED_KEY) ?? 0, queueMin);
    const buckets: number[] = [];
    let bytesCut = 0;
    for (const name of await readdir(options.dir)) {
      const start = bucketStartOfFileName(name);
      if (start === undefined) continue;
      if (start + BUCKET_MS - 1 <= firedUpToMs) {
        await unlink(path.join(options.dir, name)); // fired before the crash; its delete was lost
        continue;
      }
      bytesCut += await repairBucketFile(options.dir, start);
      buckets.push(start);
    }
    buckets.sort((a, b) => a - b);
    const timer = new TimerStore(options, buckets, ingested, firedUpToMs);
    if (!checkpoints.has(FIRED_UP_TO_KEY)) await checkpoints.set(FIRED_UP_TO_KEY, firedUpToMs);
    const fields = { dir: options.dir, buckets: buckets.length, ingested, firedUpToMs, bytesCut };
    if (bytesCut > 0) logger.warn(fields, 'timer store opened; torn bucket-file tails cut');
    else logger.debug(fields, 'timer store opened'); // debug: the broker's start log lines are a fixed sequence
    return timer;
  }

  /** Follows the system topic and fires due timers every tick until pause() or close(). */
  start(): void {
    if (!this.paused || this.closed) return;
    this.paused = false;
    this.unsubscribe = this.options.store.onDispatch((info) => {
      if (info.topic === TIMER_TOPIC) this.scheduleIngest();
    });
    this.scheduleIngest();
    this.scheduleTick();
  }

  /** Every timer due at or before this has fired or was recalled. */
  get firedUpTo(): number {
    return this.firedUpToMs;
  }

  /**
   * Entries in the bucket files not wholly fired (the pending-timers gauge): approximate, since a
   * bucket file also holds recall entries and timers of the bucket already fired.
   */
  async pendingEntries(): Promise<number> {
    let entries = 0;
    for (const start of this.buckets) {
      if (start + BUCKET_MS - 1 <= this.firedUpToMs) continue;
      const bytes = await stat(path.join(this.options.dir, bucketFileName(start))).then((s) => s.size, () => 0); // fired and deleted meanwhile
      entries += Math.floor(bytes / ENTRY_BYTES);
    }
    return entries;
  }

  /** Timers of the bucket in memory (the one about to fire). */
  get loadedTimers(): number {
    return this.heap.size;
  }

  /**
   * The send path stored a timer record (SendMessage): remembering its due time lets the ingest
   * file it without reading the record back. Ignored once that record is ingested, so the map
   * holds at most what the ingest lags behind.
   */
  noteSent(record: { readonly queueOffset: number; readonly physicalOffset: number }, dueMs: number): void {
    if (record.queueOffset >= this.ingested && !this.closed) this.sentDues.set(record.physicalOffset, dueMs);
  }

  /**
   * The commit log was cut back (an old master rejoining as a slave, MessageStore.truncateTail):
   * timer records past the cut are gone, and the offsets they had are reused by what the new
   * master sends. Ingestion resumes at the timer topic's new end, so timers replicated there are
   * filed when this broker is master again. Bucket entries filed from cut records stay: firing
   * re-reads each record and skips one that is no longer a timer record.
   */
  async afterTruncate(): Promise<void> {
    await this.serial.catch(() => undefined);
    const { max } = this.options.store.queueRange(TIMER_TOPIC, TIMER_QUEUE_ID);
    if (this.ingested <= max) return;
    this.ingested = max;
    this.sentDues.clear();
    await this.options.checkpoints.set(INGESTED_KEY, this.ingested);
  }

  /** Ingests what was sent so far, then fires everything due now (tests and benchmarks). */
  runOnce(): Promise<void> {
    return this.serially(async () => {
      await this.ingestAll();
      await this.fireDue(this.options.clock.now());
    });
  }

  /**
   * Cancels the pending timer `handle` names (the caller checked topic and broker). Returns the
   * message id; MESSAGE_NOT_FOUND (TIMER_NOT_FOUND) when it already fired, was recalled before,
   * or is unknown.
   */
  recall(handle: RecallHandle): Promise<string> {
    return this.serially(() => this.recallNow(handle));
  }

  /**
   * Stops ingesting and firing (the broker stopped being master: its new master fires), waits for
   * the running step and persists the fired-up-to checkpoint; start() resumes. Clears what the
   * send path told of: a master fires it after ingesting the replicated records.
   */
  async pause(): Promise<void> {
    if (this.paused || this.closed) return;
    this.paused = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.sentDues.clear();
    if (this.tickTimer !== undefined) clearTimeout(this.tickTimer);
    await this.serial.catch(() => undefined);
    if (this.persistedFiredUpToMs !== this.firedUpToMs) await this.persistFiredUpTo();
  }

  /** Stops ticking, waits for the running step and persists the fired-up-to checkpoint. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    this.sentDues.clear();
    if (this.tickTimer !== undefined) clearTimeout(this.tickTimer);
    await this.serial.catch(() => undefined);
    if (this.persistedFiredUpToMs !== this.firedUpToMs) await this.persistFiredUpTo();
  }

  private serially<T>(step: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new ApogeeError('INTERNAL', 'The timer store is closed; the broker is stopping'));
    const run = this.serial.then(step);
    this.serial = run.catch(() => undefined);
    return run;
  }

  private scheduleIngest(): void {
    if (this.ingestQueued || this.closed || this.paused) return;
    this.ingestQueued = true;
    setImmediate(() => {
      this.ingestQueued = false;
      if (this.closed || this.paused) return;
      this.serially(() => this.ingestAll()).catch((err: unknown) =>
        this.options.logger.error({ err }, 'timer ingest failed; retrying on the next tick'),
      );
    });
  }

  private scheduleTick(): void {
    if (this.closed || this.paused) return;
    this.tickTimer = setTimeout(() => {
      if (!this.tickQueued) {
        this.tickQueued = true;
        this.runOnce()
          .catch((err: unknown) => this.options.logger.error({ err }, 'timer tick failed; retrying on the next tick'))
          .finally(() => (this.tickQueued = false));
      }
      this.scheduleTick();
    }, this.options.tickMs ?? DEFAULT_TICK_MS);
  }

  // ---- ingest: system topic → bucket files ----

  private async ingestAll(): Promise<void> {
    while (await this.ingestBatch()) {
      /* until the system topic is caught up */
    }
  }

  /**
   * Files the next batch of timer records; false when there was none. After a failure the batch
   * is filed again (bucket readers de-duplicate), so the bucket in memory, which may hold part of
   * it already, is dropped and read again from its file before it fires.
   */
  private async ingestBatch(): Promise<boolean> {
    try {
      return await this.ingestBatchOnce();
    } catch (err) {
      this.loadedStart = undefined;
      throw err;
    }
  }

  private async ingestBatchOnce(): Promise<boolean> {
    const { store, logger } = this.options;
    const entries = store.entries(TIMER_TOPIC, TIMER_QUEUE_ID, this.ingested, INGEST_BATCH);
    if (entries.length === 0) return false;
    const byBucket = new Map<number, TimerEntry[]>();
    const overdue: MessageInput[] = [];
    const overdueDues: number[] = [];
    const file = (dueMs: number, e: CqEntry): void => {
      const start = bucketStartOf(dueMs);
      const list = byBucket.get(start) ?? [];
      list.push({ kind: 'timer', dueMs, physicalOffset: e.physicalOffset, totalBytes: e.totalBytes });
      byBucket.set(start, list);
    };
    for (const e of entries) {
      if (e.totalBytes === 0) continue; // a hole: no record
      const sentDue = this.sentDues.get(e.physicalOffset);
      this.sentDues.delete(e.physicalOffset);
      if (sentDue !== undefined && sentDue > this.firedUpToMs) {
        file(sentDue, e);
        continue;
      }
      const record = this.readTimerRecord(e.physicalOffset, e.totalBytes);
      if (record === undefined) {
        logger.error({ physicalOffset: e.physicalOffset, queueOffset: e.queueOffset }, 'timer record unreadable; skipped');
        continue;
      }
      if (record.info.dueMs <= this.firedUpToMs) {
        overdue.push(firedInputOf(record.stored, record.info));
        overdueDues.push(record.info.dueMs);
        continue;
      }
      file(record.info.dueMs, e);
    }
    for (const [start, list] of byBucket) {
      await this.appendToBucket(start, list);
      if (start === this.loadedStart) for (const t of list) if (!this.cancelled.has(t.physicalOffset)) this.heap.push(t);
    }
    if (overdue.length > 0) await this.storeFired(overdue, overdueDues);
    this.ingested = entries[entries.length - 1].queueOffset + 1;
    await this.options.checkpoints.set(INGESTED_KEY, this.ingested);
    return true;
  }

  private readTimerRecord(physicalOffset: number, totalBytes?: number): { stored: StoredMessage; info: TimerRecordInfo } | undefined {
    const { store } = this.options;
    if (physicalOffset < store.minPhysicalOffset || physicalOffset >= store.maxPhysicalOffset) return undefined;
    let stored: StoredMessage;
    try {
      stored = store.read(physicalOffset, totalBytes);
    } catch (err) {
      if (err instanceof StorageError && err.code === 'CORRUPT_RECORD') return undefined;
      throw err;
    }
    const info = timerInfoOf(stored);
    return info === undefined ? undefined : { stored, info };
  }

  private async appendToBucket(start: number, entries: readonly TimerEntry[]): Promise<void> {
    const created = await appendEntries(this.options.dir, start, entries);
    if (!created) return;
    fsyncDirSync(this.options.dir);
    let i = this.buckets.length;
    while (i > 0 && this.buckets[i - 1] > start) i--;
    if (this.buckets[i - 1] !== start) this.buckets.splice(i, 0, start);
  }

  // ---- fire: due timers → their real topics ----

  private async fireDue(nowMs: number): Promise<void> {
    const fireBatch = this.options.fireBatch ?? DEFAULT_FIRE_BATCH;
    for (let step = 0; step < FIRE_STEPS_PER_TICK && this.firedUpToMs < nowMs; step++) {
      const start = bucketStartOf(this.firedUpToMs + 1);
      if (this.loadedStart !== start) await this.load(start);
      const end = start + BUCKET_MS - 1;
      const limit = Math.min(nowMs, end);
      const batch = this.takeDue(limit, fireBatch);
      const top = this.heap.peek();
      const reached = top !== undefined && top.dueMs <= limit ? batch[batch.length - 1].dueMs : limit;
      if (batch.length > 0) {
        try {
          await this.fire(batch);
        } catch (err) {
          this.loadedStart = undefined; // the batch left the heap: read the bucket again next time
          throw err;
        }
      }
      this.firedUpToMs = reached;
      if (reached === end) {
        await this.finishBucket(start, nowMs);
      } else if (batch.length > 0 || nowMs - this.lastPersistAtMs >= IDLE_CHECKPOINT_MS) {
        await this.persistFiredUpTo();
      }
    }
  }

  /** Pops up to `max` live timers due at or before `limit`, never splitting one due time. */
  private takeDue(limit: number, max: number): TimerEntry[] {
    const batch: TimerEntry[] = [];
    for (let top = this.heap.peek(); top !== undefined && top.dueMs <= limit; top = this.heap.peek()) {
      if (batch.length >= max && top.dueMs !== batch[batch.length - 1].dueMs) break;
      this.heap.pop();
      if (!this.cancelled.has(top.physicalOffset)) batch.push(top);
    }
    return batch;
  }

  private async fire(batch: readonly TimerEntry[]): Promise<void> {
    const inputs: MessageInput[] = [];
    const dues: number[] = [];
    for (const timer of batch) {
      const record = this.readTimerRecord(timer.physicalOffset, timer.totalBytes);
      if (record === undefined) {
        this.options.logger.error(
          { physicalOffset: timer.physicalOffset, dueMs: timer.dueMs },
          'timer record gone (retention) or corrupt; message not delivered',
        );
        continue;
      }
      inputs.push(firedInputOf(record.stored, record.info));
      dues.push(timer.dueMs);
    }
    if (inputs.length > 0) await this.storeFired(inputs, dues);
  }

  /** Appends fired messages to their topics; a message the store refuses is logged and dropped. */
  private async storeFired(inputs: readonly MessageInput[], dues: readonly number[]): Promise<void> {
    const results = await this.options.store.appendBatch(inputs);
    const storedAt = this.options.clock.now();
    results.forEach((result, i) => {
      if (result instanceof Error) {
        const { messageId, topic } = inputs[i];
        this.options.logger.error({ err: result, messageId, topic }, 'fired timer message refused by the store');
      } else {
        this.options.onFired?.(dues[i], storedAt);
      }
    });
  }

  /** Every due time of bucket `start` fired: persist, delete its file, skip to the next bucket. */
  private async finishBucket(start: number, nowMs: number): Promise<void> {
    this.loadedStart = undefined;
    this.heap = new DueHeap();
    this.cancelled = new Set();
    const next = this.buckets.find((b) => b > start);
    this.firedUpToMs = Math.max(this.firedUpToMs, Math.min(nowMs, (next ?? Number.MAX_SAFE_INTEGER) - 1));
    await this.persistFiredUpTo();
    const i = this.buckets.indexOf(start);
    if (i >= 0) {
      this.buckets.splice(i, 1);
      await unlink(path.join(this.options.dir, bucketFileName(start))).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
  }

  private async load(start: number): Promise<void> {
    const { timers, cancelled } = liveTimers(this.buckets.includes(start) ? await readBucketFile(this.options.dir, start) : []);
    this.heap = new DueHeap(timers.filter((t) => t.dueMs > this.firedUpToMs));
    this.cancelled = cancelled;
    this.loadedStart = start;
  }

  private async persistFiredUpTo(): Promise<void> {
    const value = this.firedUpToMs;
    await this.options.checkpoints.set(FIRED_UP_TO_KEY, value);
    this.persistedFiredUpToMs = value;
    this.lastPersistAtMs = this.options.clock.now();
  }

  // ---- recall ----

  private async recallNow(handle: RecallHandle): Promise<string> {
    if (handle.dueMs <= this.firedUpToMs) {
      throw notFound(`Message ${handle.messageId} was already delivered (it was due at ${iso(handle.dueMs)}); it cannot be recalled`);
    }
    const record = this.readTimerRecord(handle.physicalOffset);
    if (record === undefined || !isRecordOf(handle, record)) {
      throw notFound(`No delayed message ${handle.messageId} of topic ${JSON.stringify(handle.topic)} is pending on this broker`);
    }
    const { stored } = record;
    while (this.ingested <= stored.queueOffset && (await this.ingestBatch())) {
      /* file the timer before cancelling it */
    }
    const start = bucketStartOf(handle.dueMs);
    const alreadyCancelled =
      this.loadedStart === start
        ? this.cancelled.has(handle.physicalOffset)
        : (await readBucketFile(this.options.dir, start)).some((e) => e.kind === 'cancel' && e.physicalOffset === handle.physicalOffset);
    if (alreadyCancelled) throw notFound(`Message ${handle.messageId} was already recalled`);
    const { dueMs, physicalOffset } = handle;
    await this.appendToBucket(start, [{ kind: 'cancel', dueMs, physicalOffset, totalBytes: stored.totalBytes }]);
    if (this.loadedStart === start) this.cancelled.add(handle.physicalOffset);
    return stored.messageId;
  }
}

/** Whether the timer record at the handle's offset is the one the handle names (a forged offset is not). */
function isRecordOf(handle: RecallHandle, record: { stored: StoredMessage; info: TimerRecordInfo }): boolean {
  return record.stored.messageId === handle.messageId && record.info.dueMs === handle.dueMs && record.info.realTopic === handle.topic;
}

function notFound(message: string): ApogeeError {
  return new ApogeeError('TIMER_NOT_FOUND', message);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
