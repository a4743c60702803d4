/**
 * MetaTable: a durable string → JSON map for broker metadata (topics, subscription groups,
 * consumer offsets, timer/transaction bookkeeping, POP receipts). Decision: docs/decisions/0001.
 *
 * Files: a snapshot plus one live journal per table (layouts in snapshot-file.ts and
 * journal-file.ts, generations in table-files.ts, recovery in table-recovery.ts).
 *
 * Writes. `set`, `delete` and `setMany` each encode one journal record and queue it. All records
 * queued while no write is in flight (at least one event-loop turn, via setImmediate) go to disk
 * as one positional write and one fdatasync — group commit. A mutation's promise resolves only
 * after that fdatasync, and only then is the mutation applied to the in-memory map: reads
 * (`get`, `has`, `entries`, `size`) are synchronous and see durable state only.
 *
 * Durability per mutation (`MetaWriteOptions.durability`): 'sync' (the default) as above; 'written'
 * resolves once the record is written to the journal (in the page cache: it survives the process
 * being killed, not the machine losing power), and its fdatasync follows within
 * `deferredSyncMs` or with the next 'sync' record, whichever comes first — the guarantee of an
 * ASYNC-flushed commit log, for state that follows the messages' flush mode. Order is kept: a
 * 'sync' record is synced with every record before it. close() syncs what is still unsynced.
 *
 * Compaction runs in the same queue, between batches, once the journal outgrows both
 * `compactJournalBytes` and `compactSnapshotRatio` × the last snapshot: the map (which is exactly
 * the durable state at that point) becomes a new snapshot naming a new, empty journal.
 *
 * Failure is sticky: the first failed write, fsync, rename or unlink rejects the mutations it
 * carried (IO_ERROR, or DISK_FULL for ENOSPC), and the table turns read-only — every queued and
 * later mutation rejects with STORAGE_READ_ONLY. Nothing ever resolves OK after a failure.
 * A rejection means "outcome unknown", not "absent": bytes written before a failed fdatasync may
 * still reach the disk and be replayed on the next open. Only resolved mutations are promised.
 *
 * Memory: the whole map lives in memory. That is right for metadata; POP receipts at large scale
 * belong in the commit log instead (a later issue). Values are copied through JSON and frozen:
 * treat them as read-only.
 */
import { StorageError } from '../errors';
import {
  encodeRecord,
  JOURNAL_HEADER_BYTES,
  MAX_PAYLOAD_BYTES,
  OP_DELETE,
  RECORD_PREFIX_BYTES,
  type DecodedMutation,
  type MetaMutation,
} from './journal-file';
import { checkedKey, decodedCopy, deepFreeze, setMutation } from './mutation-input';
import { nodeMetaFileSystem, toStorageError, writeFully, type MetaFileHandle, type MetaFileSystem } from './meta-fs';
import { assertTableName, journalPath, startGeneration } from './table-files';
import { applyMutations, recoverTable, type MetaOpenReport, type RecoveredTable } from './table-recovery';

export const DEFAULT_COMPACT_JOURNAL_BYTES = 4 * 1024 * 1024;
export const DEFAULT_COMPACT_SNAPSHOT_RATIO = 2;

export interface MetaTableOptions {
  /** Compact once the journal's records reach this many bytes (default 4 MiB)… */
  readonly compactJournalBytes?: number;
  /** …and this multiple of the last snapshot's size (default 2). */
  readonly compactSnapshotRatio?: number;
  /** Most ms a 'written' record waits for its fdatasync (default 500, an ASYNC commit log's flush interval). */
  readonly deferredSyncMs?: number;
  /** File-system calls; tests inject failures here. */
  readonly fs?: MetaFileSystem;
}

type CompactionPolicy = Required<Pick<MetaTableOptions, 'compactJournalBytes' | 'compactSnapshotRatio' | 'deferredSyncMs'>>;

export const DEFAULT_DEFERRED_SYNC_MS = 500;

/** How durable a mutation is when its promise resolves (see the header). */
export interface MetaWriteOptions {
  readonly durability?: 'sync' | 'written';
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (err: StorageError) => void;
}

interface QueuedRecord extends Waiter {
  readonly record: Buffer;
  readonly mutations: readonly DecodedMutation[];
  readonly sync: boolean;
}

export class MetaTable<T = unknown> {
  private queue: QueuedRecord[] = [];
  private compactWaiters: Waiter[] = [];
  private draining: Promise<void> | undefined;
  private failure: StorageError | undefined;
  private closing: Promise<void> | undefined;
  private journalBytes: number;
  /** Journal bytes written but not yet fdatasync-ed ('written' records). */
  private unsynced = false;
  private syncRequested = false;
  private syncTimer: NodeJS.Timeout | undefined;
  /** The deferred fdatasync in flight: it runs beside the writer, so records queued meanwhile are not held up by it. */
  private backgroundSync: Promise<void> | undefined;

  private readonly entriesByKey: Map<string, unknown>;
  private journal: MetaFileHandle;
  private currentGeneration: number;
  private snapshotBytes: number;
  readonly openReport: MetaOpenReport;

  private constructor(
    private readonly fs: MetaFileSystem,
    private readonly dir: string,
    readonly name: string,
    recovered: RecoveredTable,
    private readonly policy: CompactionPolicy,
  ) {
    this.entriesByKey = recovered.entries;
    this.journal = recovered.journal;
    this.currentGeneration = recovered.generation;
    this.snapshotBytes = recovered.snapshotBytes;
    this.openReport = recovered.report;
    this.journalBytes = recovered.report.journalBytes;
    for (const value of this.entriesByKey.values()) deepFreeze(value);
  }

  /**
   * Opens (recovering) or creates `<dir>/<name>.*`; `dir` must exist (MetadataStore creates it
   * durably). See MetaOpenReport for what recovery repaired.
   */
  static async open<T = unknown>(dir: string, name: string, options: MetaTableOptions = {}): Promise<MetaTable<T>> {
    assertTableName(name);
    const policy: CompactionPolicy = {
      compactJournalBytes: options.compactJournalBytes ?? DEFAULT_COMPACT_JOURNAL_BYTES,
      compactSnapshotRatio: options.compactSnapshotRatio ?? DEFAULT_COMPACT_SNAPSHOT_RATIO,
      deferredSyncMs: options.deferredSyncMs ?? DEFAULT_DEFERRED_SYNC_MS,
    };
    if (!(policy.compactJournalBytes > 0) || !(policy.compactSnapshotRatio >= 0) || !(policy.deferredSyncMs >= 0)) {
      throw new StorageError('INVALID_CONFIG', 'compactJournalBytes must be > 0, compactSnapshotRatio and deferredSyncMs >= 0');
    }
    const fs = options.fs ?? nodeMetaFileSystem;
    try {
      return new MetaTable<T>(fs, dir, name, await recoverTable(fs, dir, name), policy);
    } catch (err) {
      throw toStorageError(err, `open metadata table "${name}" in ${dir}`);
    }
  }

  get(key: string): T | undefined {
    return this.entriesByKey.get(key) as T | undefined;
  }

  has(key: string): boolean {
    return this.entriesByKey.has(key);
  }

  get size(): number {
    return this.entriesByKey.size;
  }

  entries(): IterableIterator<[string, T]> {
    return this.entriesByKey.entries() as IterableIterator<[string, T]>;
  }

  /** Generation of the live journal; grows by one per compaction. */
  get generation(): number {
    return this.currentGeneration;
  }

  /** The error that turned the table read-only, if any. */
  get readOnlyError(): StorageError | undefined {
    return this.failure;
  }

  /** Resolves once `key → value` is durable. */
  async set(key: string, value: T): Promise<void> {
    return this.enqueue([setMutation(key, value)]);
  }

  /** Resolves once the deletion is durable (also when the key was absent). */
  async delete(key: string): Promise<void> {
    return this.enqueue([{ op: OP_DELETE, key: checkedKey(key) }]);
  }

  /** Sets all entries in one record: after a crash, all or none of them are present. */
  async setMany(entries: Iterable<readonly [string, T]>): Promise<void> {
    return this.update({ set: entries });
  }

  /**
   * Sets and deletes in one record: after a crash, all or none of the changes are present.
   * Deletions apply after the sets, so a key in both ends up absent.
   */
  async update(
    changes: { readonly set?: Iterable<readonly [string, T]>; readonly delete?: Iterable<string> },
    options: MetaWriteOptions = {},
  ): Promise<void> {
    const mutations: MetaMutation[] = Array.from(changes.set ?? [], ([key, value]) => setMutation(key, value));
    for (const key of changes.delete ?? []) mutations.push({ op: OP_DELETE, key: checkedKey(key) });
    if (mutations.length === 0) return this.barrier();
    return this.enqueue(mutations, options.durability !== 'written');
  }

  /** Writes a new snapshot and starts a new journal now, after the writes already queued. */
  async compact(): Promise<void> {
    this.throwIfRefusing();
    return new Promise<void>((resolve, reject) => {
      this.compactWaiters.push({ resolve, reject });
      this.schedule();
    });
  }

  /** Refuses new mutations, waits for queued ones to finish, then closes the journal. */
  async close(): Promise<void> {
    this.closing ??= (async () => {
      while (this.draining !== undefined) await this.draining;
      clearTimeout(this.syncTimer);
      await this.backgroundSync;
      try {
        if (this.unsynced && this.failure === undefined) await this.journal.datasync();
        await this.journal.close();
      } catch (err) {
        throw toStorageError(err, `close metadata table "${this.name}"`);
      }
    })();
    return this.closing;
  }

  private async barrier(): Promise<void> {
    this.throwIfRefusing();
    while (this.draining !== undefined) await this.draining;
    if (this.failure !== undefined) throw this.failure;
  }

  private enqueue(mutations: MetaMutation[], sync = true): Promise<void> {
    this.throwIfRefusing();
    const record = encodeRecord(mutations);
    if (record.length - RECORD_PREFIX_BYTES > MAX_PAYLOAD_BYTES) {
      throw new StorageError('MESSAGE_TOO_LARGE', `record of ${record.length} bytes exceeds ${MAX_PAYLOAD_BYTES}`);
    }
    const decoded = mutations.map(decodedCopy);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ record, mutations: decoded, resolve, reject, sync });
      this.schedule();
    });
  }

  private throwIfRefusing(): void {
    if (this.closing !== undefined) throw new StorageError('STORE_CLOSED', `metadata table "${this.name}" is closed`);
    if (this.failure !== undefined) throw this.failure;
  }

  private schedule(): void {
    if (this.draining !== undefined) return;
    this.draining = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
  }

  /** The only writer: batches, then compaction if due, until nothing is queued. Never throws. */
  private async drain(): Promise<void> {
    try {
      while (this.failure === undefined && (this.queue.length > 0 || this.compactWaiters.length > 0 || this.syncRequested)) {
        if (this.queue.length > 0) await this.commitBatch(this.queue.splice(0));
        else if (this.syncRequested) this.startDeferredSync();
        if (this.failure === undefined && (this.compactWaiters.length > 0 || this.compactionDue())) {
          await this.runCompaction(this.compactWaiters.splice(0));
        }
      }
    } finally {
      this.draining = undefined; // synchronously after the last check: no mutation is stranded
    }
  }

  private async commitBatch(batch: QueuedRecord[]): Promise<void> {
    const bytes = batch.length === 1 ? batch[0].record : Buffer.concat(batch.map((queued) => queued.record));
    const sync = batch.some((queued) => queued.sync);
    try {
      await writeFully(this.journal, bytes, this.journalBytes);
      if (sync) await this.journal.datasync();
    } catch (err) {
      this.fail(toStorageError(err, `append to metadata table "${this.name}"`, { retriable: false }), batch);
      return;
    }
    this.journalBytes += bytes.length;
    this.unsynced = !sync;
    if (sync) this.syncRequested = false;
    else this.armDeferredSync();
    for (const queued of batch) applyMutations(this.entriesByKey, queued.mutations);
    for (const queued of batch) queued.resolve();
  }

  /** Asks the writer for an fdatasync of the 'written' records within deferredSyncMs. */
  private armDeferredSync(): void {
    if (this.syncTimer !== undefined) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = undefined;
      if (!this.unsynced || this.failure !== undefined || this.closing !== undefined) return;
      this.syncRequested = true;
      this.schedule();
    }, this.policy.deferredSyncMs);
    this.syncTimer.unref();
  }

  /**
   * Starts the fdatasync of the 'written' records without waiting for it: a record queued while
   * it runs is written at once (its own durability is 'written', or it syncs itself). The sync
   * covers the journal up to where it was when the sync started; records written later keep the
   * table unsynced and get the next deferred sync.
   */
  private startDeferredSync(): void {
    this.syncRequested = false;
    if (!this.unsynced || this.backgroundSync !== undefined) return;
    const journal = this.journal;
    const coveredBytes = this.journalBytes;
    this.backgroundSync = journal
      .datasync()
      .then(
        () => {
          if (this.journal !== journal) return; // compaction replaced the journal; it waited for this sync
          if (this.journalBytes === coveredBytes) this.unsynced = false;
          else this.armDeferredSync();
        },
        (err: unknown) => this.fail(toStorageError(err, `sync metadata table "${this.name}"`, { retriable: false }), []),
      )
      .finally(() => (this.backgroundSync = undefined));
  }

  private compactionDue(): boolean {
    const recordBytes = this.journalBytes - JOURNAL_HEADER_BYTES;
    const { compactJournalBytes, compactSnapshotRatio } = this.policy;
    return recordBytes >= Math.max(compactJournalBytes, compactSnapshotRatio * this.snapshotBytes);
  }

  private async runCompaction(waiters: Waiter[]): Promise<void> {
    const next = this.currentGeneration + 1;
    const oldJournal = this.journal;
    const oldPath = journalPath(this.dir, this.name, this.currentGeneration);
    await this.backgroundSync; // never close a journal under its own fdatasync
    if (this.failure !== undefined) {
      for (const waiter of waiters) waiter.reject(this.failure);
      return;
    }
    try {
      const snapshotEntries = Array.from(this.entriesByKey, ([key, value]) => [key, JSON.stringify(value)] as const);
      const started = await startGeneration(this.fs, this.dir, this.name, next, snapshotEntries);
      this.journal = started.journal;
      this.currentGeneration = next;
      this.journalBytes = JOURNAL_HEADER_BYTES;
      this.snapshotBytes = started.snapshotBytes;
      this.unsynced = false; // the snapshot, synced, holds every record of the old journal
      await oldJournal.close();
      await this.fs.unlink(oldPath);
    } catch (err) {
      this.fail(toStorageError(err, `compact metadata table "${this.name}"`, { retriable: false }), waiters);
      return;
    }
    for (const waiter of waiters) waiter.resolve();
  }

  /** Turns the table read-only: `first` to the failed operation's waiters, READ_ONLY to the rest. */
  private fail(first: StorageError, waiters: readonly Waiter[]): void {
    this.failure = new StorageError('STORAGE_READ_ONLY', `metadata table "${this.name}" is read-only after: ${first.message}`, {
      cause: first,
    });
    for (const waiter of waiters) waiter.reject(first);
    for (const waiter of [...this.queue.splice(0), ...this.compactWaiters.splice(0)]) waiter.reject(this.failure);
  }
}
