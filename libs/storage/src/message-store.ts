import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CommitLog, type RecordSpan } from './commit-log/commit-log';
import {
  PreparedRecord,
  prepareRecord,
  decodeDispatchInfo,
  decodeRecordSummary,
  readStoreTimestamp,
  type MessageInput,
  type PhysicalOffset,
  type QueueOffset,
  type RecordContext,
  type RecordSummary,
  type StoredMessage,
} from './codec/record-codec';
import type { ConsumeQueue } from './consume-queue/consume-queue';
import { tagHashOf } from './consume-queue/cq-entry';
import type { CqEntry } from './consume-queue/cq-entry';
import { ConsumeQueueStore } from './consume-queue/consume-queue-store';
import { Dispatcher, type AppendedRecord, type DispatchListener } from './dispatch/dispatcher';
import { StorageError, VALIDATION_CODES } from './errors';
import { abortMarkerExists, createAbortMarker, removeAbortMarker } from './recovery/abort-marker';
import { readCheckpoint, writeCheckpoint, type Checkpoint } from './recovery/checkpoint';
import { readManifest, writeManifest } from './consume-queue/queue-manifest';
import { applyRetention, diskUsageOf, type RetentionResult } from './retention/retention';
import { storeConfig, type StoreConfig } from './store-config';
import { truncateStore, type TruncateResult } from './truncate';

/** What the store logs through; apps pass a pino child logger. */
export interface StoreLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface StoreOptions {
  readonly logger?: StoreLogger;
  readonly now?: () => number;
  /** Disk use 0–1 of the store's file system (default: statfs). */
  readonly diskUsage?: () => number;
}

/** A page of the log read by scanFrom: the records' summaries and where the next page starts. */
export interface LogScanPage {
  readonly records: RecordSummary[];
  /** A record boundary: pass it to the next scanFrom. Past fillers and holes behind the last record. */
  readonly next: PhysicalOffset;
}

/** Default size bound of one scanFrom page: bounds the time a synchronous read blocks. */
const SCAN_PAGE_MAX_BYTES = 4 << 20;

export interface AppendResult {
  readonly physicalOffset: PhysicalOffset;
  readonly queueOffset: QueueOffset;
  readonly totalBytes: number;
  readonly storeTimestampMs: number;
}

/** What open() found and did; `corruption` and the cut counts say exactly what was lost. */
export interface RecoveryReport {
  readonly cleanShutdown: boolean;
  readonly checkpoint: Checkpoint | null;
  readonly rebuiltConsumeQueues: boolean;
  readonly scannedFrom: PhysicalOffset;
  readonly recordsScanned: number;
  readonly logEnd: PhysicalOffset;
  readonly corruption: { readonly offset: PhysicalOffset; readonly reason: string } | null;
  readonly bytesCut: number;
  readonly segmentsDeleted: number;
  readonly consumeQueueEntriesCut: number;
  readonly durationMs: number;
}

interface QueueSlot {
  readonly queue: ConsumeQueue;
  next: QueueOffset;
}

const SILENT: StoreLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const DISPATCH_COMMIT_EVERY = 4096;

/**
 * The storage engine: one commit log for every topic, a consume queue per (topic, queueId), a
 * checkpoint and an abort marker for recovery, and retention. See docs/formats/.
 */
export class MessageStore {
  private readonly slots = new Map<string, QueueSlot[]>();
  private readonly recordContext: RecordContext;
  private readonly scratch = new PreparedRecord();
  private readonly timers: NodeJS.Timeout[] = [];
  private failure: StorageError | null = null;
  private diskFull = false;
  private checkpointing: Promise<void> | null = null;
  private truncating: Promise<TruncateResult> | null = null;
  private readonly truncateListeners: Array<(result: TruncateResult) => void> = [];
  private readonly syncListeners: Array<(durationMs: number) => void> = [];
  private closed = false;

  private constructor(
    readonly config: StoreConfig,
    private readonly log: CommitLog,
    private readonly queues: ConsumeQueueStore,
    private readonly dispatcher: Dispatcher,
    readonly recovery: RecoveryReport,
    private readonly logger: StoreLogger,
    private readonly now: () => number,
    private readonly diskUsage: () => number,
  ) {
    this.recordContext = { maxBodyBytes: config.maxBodyBytes, storeHost: Buffer.from(config.storeHost) };
  }

  static async open(partial: Partial<StoreConfig> & { dir: string }, options: StoreOptions = {}): Promise<MessageStore> {
    const config = storeConfig(partial);
    const logger = options.logger ?? SILENT;
    const now = options.now ?? Date.now;
    const started = Date.now();
    mkdirSync(config.dir, { recursive: true });
    const cleanShutdown = !abortMarkerExists(config.dir);
    const checkpoint = readCheckpoint(config.dir);
    const queues = new ConsumeQueueStore(join(config.dir, 'consumequeue'), config.cqEntriesPerSegment);
    const rebuild = queues.isEmpty || queues.missesAny(readManifest(config.dir) ?? []);
    const scanFrom = checkpoint && !rebuild ? Math.min(checkpoint.logSyncedOffset, checkpoint.dispatchedOffset) : 0;
    const dispatcher = new Dispatcher(queues, scanFrom);
    let sinceCommit = 0;
    let store: MessageStore | null = null;
    const { log, recovery } = CommitLog.open(
      { ...config, dir: join(config.dir, 'commitlog') },
      scanFrom,
      (buf, at) => {
        dispatcher.dispatchRecord(buf, at);
        if (++sinceCommit % DISPATCH_COMMIT_EVERY === 0) dispatcher.commit();
      },
      {
        onWritten: (writtenEnd) => dispatcher.dispatchUpTo(writtenEnd),
        onFailed: (err) => {
          dispatcher.dropPending();
          store?.fail(err);
        },
        onSynced: (_syncedEnd, durationMs) => store?.notifySynced(durationMs),
      },
    );
    dispatcher.commit();
    dispatcher.dispatchedEnd = recovery.end;
    let consumeQueueEntriesCut = 0;
    for (const queue of queues.all()) consumeQueueEntriesCut += queue.truncateTo(recovery.end);
    const report: RecoveryReport = {
      cleanShutdown,
      checkpoint,
      rebuiltConsumeQueues: rebuild && recovery.records > 0,
      scannedFrom: recovery.scannedFrom,
      recordsScanned: recovery.records,
      logEnd: recovery.end,
      corruption: recovery.corruption,
      bytesCut: recovery.bytesCut,
      segmentsDeleted: recovery.segmentsDeleted,
      consumeQueueEntriesCut,
      durationMs: Date.now() - started,
    };
    (recovery.corruption ? logger.warn : logger.info).call(logger, { recovery: report }, 'store recovered');
    createAbortMarker(config.dir);
    store = new MessageStore(config, log, queues, dispatcher, report, logger, now, options.diskUsage ?? (() => diskUsageOf(config.dir)));
    store.startTimers();
    return store;
  }

  /** Appends one message; resolves once it is durable under the flush mode (SYNC: fdatasync'ed). */
  append(input: MessageInput): Promise<AppendResult> {
    try {
      return this.appendNow(input);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Appends several messages with one acknowledgement: they are written in order, and the promise
   * resolves once the last is durable under the flush mode. A message that fails validation gets
   * its StorageError in its slot and the others are still stored (SendMessage's per-entry
   * answer); a write or sync failure, or a store that cannot take appends, rejects the whole call.
   */
  appendBatch(inputs: readonly MessageInput[]): Promise<Array<AppendResult | StorageError>> {
    try {
      this.checkWritable();
      const results = new Array<AppendResult | StorageError>(inputs.length);
      const storeTimestampMs = this.now(); // one store time per call, as one request
      let end = -1;
      for (let i = 0; i < inputs.length; i++) {
        try {
          const record = this.appendRecord(inputs[i], storeTimestampMs);
          results[i] = record;
          end = record.physicalOffset + record.totalBytes;
        } catch (err) {
          if (!(err instanceof StorageError) || !VALIDATION_CODES.has(err.code)) throw err;
          results[i] = err;
        }
      }
      return end < 0 ? Promise.resolve(results) : this.log.whenDurable(end, results);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private appendNow(input: MessageInput): Promise<AppendResult> {
    this.checkWritable();
    const record = this.appendRecord(input, this.now());
    return this.log.whenDurable(record.physicalOffset + record.totalBytes, record);
  }

  /** Encodes one message at the end of the log and queues it for dispatch. Call checkWritable first. */
  private appendRecord(input: MessageInput, storeTimestampMs: number): AppendResult {
    const prepared = prepareRecord(input, this.recordContext, this.scratch);
    const slot = this.slotOf(input.topic, input.queueId);
    const queueOffset = slot.next;
    const physicalOffset = this.log.append(prepared, queueOffset, storeTimestampMs);
    slot.next = queueOffset + 1;
    const record: AppendResult & AppendedRecord = {
      topic: input.topic,
      queueId: input.queueId,
      queueOffset,
      physicalOffset,
      totalBytes: prepared.totalBytes,
      tag: prepared.tag,
      tagHash: tagHashOf(prepared.tag),
      storeTimestampMs,
    };
    this.dispatcher.enqueue(record, slot.queue);
    return record;
  }

  /**
   * Master side of replication: whole records (and segment-end fillers) from `from` up to what is
   * written — never a torn record, never across a segment end; `next` is where the following read
   * starts (the next segment's base after a filler). `maxBytes` is a soft cap: at least one record
   * when one is available. Empty bytes when caught up. `from` must be a record start
   * (INVALID_OFFSET) in [minPhysicalOffset, maxPhysicalOffset] (OFFSET_OUT_OF_RANGE). Contract:
   * commit-log/log-replica.ts.
   */
  readLogBytes(from: PhysicalOffset, maxBytes: number): { bytes: Buffer; next: PhysicalOffset } {
    return this.log.readReplicaChunk(from, maxBytes);
  }

  /**
   * Slave side of replication: appends bytes the master read at `from` (this store's end, else
   * REPLICA_OFFSET_MISMATCH), byte-identical. Every record's CRC and PhysicalOffset are checked
   * first (CORRUPT_RECORD, nothing appended); consume queues are built by the same dispatcher as
   * for local appends, with the QueueOffsets the records carry. Resolves with the new end once
   * durable under the flush mode (SYNC: fdatasync'ed; ASYNC: written).
   *
   * A slave store must not take local appends (the broker enforces the role); if one slips in,
   * the next replicated chunk no longer starts at this store's end and is refused, never mixed in.
   */
  appendReplicated(from: PhysicalOffset, bytes: Buffer): Promise<PhysicalOffset> {
    try {
      this.checkWritable();
      const end = this.log.appendReplicated(from, bytes, (buf, at) => this.enqueueReplicated(buf, at));
      return this.log.whenDurable(end, end);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Queues a replicated record for dispatch; its queue's next local QueueOffset follows it. */
  private enqueueReplicated(buf: Buffer, at: number): void {
    const info = decodeDispatchInfo(buf, at);
    const slot = this.slotOf(info.topic, info.queueId);
    if (info.queueOffset >= slot.next) slot.next = info.queueOffset + 1;
    this.dispatcher.enqueue({ ...info, tagHash: tagHashOf(info.tag) }, slot.queue);
  }

  /**
   * Cuts the commit log back to `to` (a record boundary in [minPhysicalOffset, maxPhysicalOffset]),
   * with everything derived from the cut records: an old master rejoining as a slave drops what the
   * new master never had, then replicates from `to`. Waits for the appends in flight (and their
   * syncs); appends arriving meanwhile fail with STORE_TRUNCATING. `to` out of range is
   * OFFSET_OUT_OF_RANGE, not a record start INVALID_OFFSET (nothing changed); `to` = the end cuts
   * nothing. Listeners of onTruncate hear of every cut. Steps and crash order: truncate.ts.
   */
  async truncateTail(to: PhysicalOffset): Promise<TruncateResult> {
    if (this.truncating) throw new StorageError('STORE_TRUNCATING', 'a truncation of the log is already running');
    this.checkWritable(true);
    this.log.truncationPoint(to); // fails fast, before appends are refused
    const run = (this.truncating = (async () => {
      await this.checkpointing?.catch(() => undefined); // its failure is already the store's failure
      return truncateStore(
        {
          log: this.log,
          queues: this.queues,
          dispatcher: this.dispatcher,
          checkpointAtMost: (limit) => this.writeCheckpoint(limit),
          fail: (err) => this.fail(err),
        },
        to,
      );
    })());
    try {
      const result = await run;
      this.slots.clear(); // each queue's next QueueOffset is its (cut) max again
      if (result.bytesCut > 0) this.logger.warn({ truncate: result }, 'commit log tail truncated');
      for (const listener of [...this.truncateListeners]) {
        try {
          listener(result);
        } catch (err) {
          this.logger.error({ err }, 'a truncate listener failed');
        }
      }
      return result;
    } finally {
      this.truncating = null;
    }
  }

  /** Hears every completed commit-log fdatasync round with its duration (the flush-latency metric). */
  onSync(listener: (durationMs: number) => void): () => void {
    this.syncListeners.push(listener);
    return () => {
      const i = this.syncListeners.indexOf(listener);
      if (i >= 0) this.syncListeners.splice(i, 1);
    };
  }

  private notifySynced(durationMs: number): void {
    for (const listener of this.syncListeners) listener(durationMs);
  }

  /** Follows every truncateTail that completed (the broker resets followers and streams). */
  onTruncate(listener: (result: TruncateResult) => void): () => void {
    this.truncateListeners.push(listener);
    return () => {
      const i = this.truncateListeners.indexOf(listener);
      if (i >= 0) this.truncateListeners.splice(i, 1);
    };
  }

  /** The message at `physicalOffset` (CRC-checked; a corrupt record throws CORRUPT_RECORD). */
  read(physicalOffset: PhysicalOffset, totalBytes?: number): StoredMessage {
    return this.log.read(physicalOffset, totalBytes);
  }

  /**
   * Up to `maxRecords` records of the written log from `from` (a record boundary in
   * [minPhysicalOffset, maxPhysicalOffset]), in log order, summarized (ids, keys, no body), and
   * the offset after them. Followers of the log call it again from `next`; at the written end
   * the page is empty. Throws OFFSET_OUT_OF_RANGE outside that range, INVALID_OFFSET when `from`
   * is not the start of a record, CORRUPT_RECORD for a bad record after it.
   */
  scanFrom(from: PhysicalOffset, maxRecords: number, maxBytes = SCAN_PAGE_MAX_BYTES): LogScanPage {
    const records: RecordSummary[] = [];
    const page = this.log.readPage(from, { maxRecords, maxBytes }, (buf, at) => records.push(decodeRecordSummary(buf, at)));
    return { records, next: page.next };
  }

  /** Up to `maxCount` consume-queue entries of (topic, queueId) from `from` (one read). */
  entries(topic: string, queueId: number, from: QueueOffset, maxCount: number): CqEntry[] {
    return this.queues.get(topic, queueId)?.read(from, maxCount) ?? [];
  }

  /** The messages at `spans` (consume-queue entries), in that order; records back to back are read together. */
  readMany(spans: readonly RecordSpan[]): StoredMessage[] {
    return this.log.readMany(spans);
  }

  /** Up to `maxCount` messages of (topic, queueId) from `from`, in queue order. */
  readQueue(topic: string, queueId: number, from: QueueOffset, maxCount: number): StoredMessage[] {
    return this.log.readMany(this.entries(topic, queueId, from, maxCount));
  }

  /** [min, max) of the queue's QueueOffsets; {0, 0} for a queue that has no message. */
  queueRange(topic: string, queueId: number): { min: QueueOffset; max: QueueOffset } {
    const q = this.queues.get(topic, queueId);
    return q ? { min: q.minOffset, max: q.maxOffset } : { min: 0, max: 0 };
  }

  /** The first QueueOffset stored at or after `timestampMs` (the queue's max if none). */
  offsetAtTime(topic: string, queueId: number, timestampMs: number): QueueOffset {
    const q = this.queues.get(topic, queueId);
    if (!q) return 0;
    return q.offsetAtTime(timestampMs, (e) => {
      if (e.physicalOffset < this.log.minOffset) return undefined;
      return readStoreTimestamp(this.log.readChecked(e.physicalOffset, e.totalBytes), 0);
    });
  }

  topics(): string[] {
    return this.queues.topics();
  }

  queueIds(topic: string): number[] {
    return this.queues.queuesOf(topic).map((q) => q.queueId);
  }

  get minPhysicalOffset(): PhysicalOffset {
    return this.log.minOffset;
  }

  /** The end of the written log: the next PhysicalOffset to write (a slave's handshake). */
  get maxPhysicalOffset(): PhysicalOffset {
    return this.log.maxOffset;
  }

  /** This store's segment size: master and slave must match (records never cross segments). */
  get segmentBytes(): number {
    return this.config.segmentBytes;
  }

  get syncedPhysicalOffset(): PhysicalOffset {
    return this.log.syncedOffset;
  }

  /** Follows every record dispatched from now on (index-service feed, replication, metrics). */
  onDispatch(listener: DispatchListener): () => void {
    return this.dispatcher.addListener(listener);
  }

  /** Runs retention now (it also runs on a timer) and refreshes the disk-full state. */
  runRetention(nowMs = this.now()): RetentionResult {
    const result = applyRetention(this.log, this.queues, this.config, nowMs, this.diskUsage);
    if (result.segmentsDeleted > 0) this.logger.info({ retention: result }, 'retention deleted segments');
    this.refreshDiskState();
    return result;
  }

  /** Syncs the consume queues and records how far recovery may skip. Serialized. */
  checkpoint(): Promise<void> {
    const truncating = this.truncating;
    if (truncating) return truncating.then(() => this.checkpoint(), () => this.checkpoint());
    if (!this.checkpointing) {
      this.checkpointing = this.writeCheckpoint().finally(() => (this.checkpointing = null));
    }
    return this.checkpointing;
  }

  /** Flushes everything, writes the final checkpoint and removes the abort marker. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.truncateListeners.length = 0;
    this.syncListeners.length = 0;
    await this.truncating?.catch(() => undefined);
    await this.checkpointing?.catch(() => undefined); // its failure is already the store's failure
    try {
      await this.log.close();
      if (this.failure) return;
      await this.writeCheckpoint();
      removeAbortMarker(this.config.dir);
    } finally {
      this.queues.closeAll();
    }
  }

  /** `limit`: no offset past it (a truncation cuts the log there next). */
  private async writeCheckpoint(limit = Number.MAX_SAFE_INTEGER): Promise<void> {
    if (this.failure) throw this.failure;
    const logSyncedOffset = Math.min(this.log.syncedOffset, limit);
    const dispatchedOffset = Math.min(this.dispatcher.dispatchedEnd, limit);
    try {
      await this.queues.syncAll();
      if (this.queues.changed) {
        this.queues.changed = false;
        await writeManifest(this.config.dir, this.queues.all());
      }
      await writeCheckpoint(this.config.dir, { logSyncedOffset, dispatchedOffset, writtenAtMs: this.now() });
    } catch (err) {
      const failure = new StorageError('IO_ERROR', `checkpoint failed; the store is read-only: ${(err as Error).message}`, {
        cause: err,
      });
      this.fail(failure);
      throw failure;
    }
  }

  private fail(err: StorageError): void {
    if (this.failure) return;
    this.failure = err;
    this.logger.error({ err }, 'store failed; read-only from now on');
  }

  /** `truncation`: for truncateTail, which frees space, so a full disk does not stop it. */
  private checkWritable(truncation = false): void {
    this.log.checkWritable();
    if (this.truncating) {
      throw new StorageError('STORE_TRUNCATING', 'the commit log tail is being truncated; appends are refused until it is done');
    }
    if (this.failure) {
      throw new StorageError('STORAGE_READ_ONLY', `the store is read-only after an I/O error: ${this.failure.message}`, {
        cause: this.failure,
      });
    }
    if (this.diskFull && !truncation) {
      throw new StorageError(
        'DISK_FULL',
        `disk use is above ${Math.round(this.config.diskCriticalWatermark * 100)}%; appends are refused until retention frees space`,
      );
    }
  }

  private refreshDiskState(): void {
    const full = this.diskUsage() > this.config.diskCriticalWatermark;
    if (full !== this.diskFull) this.logger.warn({ diskFull: full }, full ? 'disk full; refusing appends' : 'disk space recovered');
    this.diskFull = full;
  }

  /** The consume queue of (topic, queueId) and the QueueOffset its next message gets. */
  private slotOf(topic: string, queueId: number): QueueSlot {
    let slots = this.slots.get(topic);
    if (!slots) this.slots.set(topic, (slots = []));
    let slot = slots[queueId];
    if (!slot) {
      const queue = this.queues.getOrCreate(topic, queueId);
      slot = slots[queueId] = { queue, next: queue.maxOffset };
    }
    return slot;
  }

  private startTimers(): void {
    const every = (ms: number, task: () => unknown): void => {
      const t = setInterval(task, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.config.checkpointIntervalMs, () => this.checkpoint().catch(() => undefined)); // failure is sticky via fail()
    every(this.config.retentionCheckIntervalMs, () => {
      if (this.truncating) return; // it may not delete the segment being cut; the next run will do
      try {
        this.runRetention();
      } catch (err) {
        this.fail(new StorageError('IO_ERROR', `retention failed: ${(err as Error).message}`, { cause: err }));
      }
    });
    this.refreshDiskState();
  }
}
