/**
 * KeyIndex: a persistent hash index from a key (topic + message key, or a message id) to
 * candidate message locations (brokerIndex, PhysicalOffset, storeTimeMs), RocketMQ's IndexFile
 * without mmap. Written and read by the index-service; spec: docs/formats/key-index.md, byte
 * layout: key-index-format.ts.
 *
 * - Files `<20-digit first entry number>.idx`: 64-byte header, slot table, fixed 32-byte entries
 *   chained newest-to-oldest per hash slot. Every entry ever appended has a number (0, 1, 2, …).
 * - One active file takes appends: entries are encoded into memory and written by one positional
 *   writev per event-loop turn (one write in flight); its slot table is in memory. It is sealed
 *   (table and header written and synced, then never rewritten) when full (`entriesPerFile`) or
 *   when an entry comes `rollAfterMs` after the file's oldest one.
 * - Memory: the active slot table (slotCount × 4 bytes), plus one for each file still being
 *   sealed, plus unwritten entries. Nothing grows with the number of entries indexed.
 * - Queries walk the slot chain of the key's hash: active file first, then sealed files newest to
 *   oldest, skipping files whose [begin, end] store times miss the range. Results are candidates
 *   (hashes collide): the caller reads each message and checks its key.
 *
 * Durability and recovery (the caller's checkpoint drives it):
 * - `flush()` writes and fdatasyncs everything appended before it and returns that entry count.
 *   The caller stores the count with its own stream positions as one checkpoint.
 * - `open(dir, { durableEntries })` keeps exactly the first `durableEntries` entries: later files
 *   are deleted, a file holding the cut is truncated and becomes active again, so replaying the
 *   stream from the checkpoint adds no duplicates. Without `durableEntries`, every entry that
 *   passes its checks is kept.
 * - Scan story for the active file (and any file whose seal did not finish): read entries in
 *   order → check CRC and that prev is the slot's current head → stop at the first bad one →
 *   truncate there → rebuild the slot table. A file with a bad header, or whose name does not
 *   continue the previous file's entries, is deleted with every later file. The report says what
 *   was dropped and whether the checkpoint claims entries that are gone (`missingEntries`).
 * - Retirement (`retireBefore`) deletes the oldest sealed files whose newest entry is older than
 *   the broker's retention horizon; never the active file, never a file in the middle.
 */
import { mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { StorageError } from '../errors';
import { fsyncDirSync } from '../io/fsync-dir';
import { IndexFile, ioError, type EntryRef } from './index-file';
import { MAX_BROKER_INDEX, fileName, hashKey, parseFileNames, readEntry, type KeyIndexInput } from './key-index-format';

export const DEFAULT_SLOT_COUNT = 4_194_304;
export const DEFAULT_ENTRIES_PER_FILE = 4_194_304;
export const DEFAULT_ROLL_AFTER_MS = 6 * 3_600_000;
/** Most chain entries one lookup reads before it returns a cursor (bounds query latency). */
export const DEFAULT_MAX_SCANNED = 20_000;

export interface KeyIndexOptions {
  /** Hash slots per new file. */
  readonly slotCount?: number;
  /** Entries per new file before it rolls. */
  readonly entriesPerFile?: number;
  /** A file rolls when an entry's storeTimeMs is this far past the file's oldest entry. */
  readonly rollAfterMs?: number;
  /** Entry count of the caller's last checkpoint: entries after it are dropped at open. */
  readonly durableEntries?: number;
}

export interface KeyIndexOpenReport {
  /** Entries kept (the next entry's number). */
  readonly entries: number;
  readonly files: number;
  /**
   * Whole 32-byte entry places cut from the end of kept files: past `durableEntries`, or at and
   * after the first entry that failed its checks.
   */
  readonly droppedEntries: number;
  /** Bytes of a partial entry cut from the end of kept files. */
  readonly tornBytes: number;
  /** Entries `durableEntries` claims that the files do not have (0 when consistent). */
  readonly missingEntries: number;
  /** Files deleted (past the durable point, after a gap or a bad header), why, and their size. */
  readonly deletedFiles: readonly { readonly name: string; readonly reason: string; readonly bytes: number }[];
}

export interface LookupOptions {
  /** Inclusive store-time bounds. */
  readonly fromMs?: number;
  readonly toMs?: number;
  readonly limit: number;
  /** The cursor of the previous page. */
  readonly cursor?: number;
  /** Chain entries to read at most before returning a cursor. */
  readonly maxScanned?: number;
}

export interface KeyCandidate {
  /** The entry's number in the index. */
  readonly entry: number;
  readonly brokerIndex: number;
  readonly physicalOffset: number;
  readonly storeTimeMs: number;
}

export interface LookupResult {
  /** Newest appended first. */
  readonly candidates: KeyCandidate[];
  /**
   * Set when there may be more: pass it back to continue. It is the number of the last entry
   * read (the page continues with older entries); treat it as opaque.
   */
  readonly cursor?: number;
}

interface Config {
  readonly slotCount: number;
  readonly entriesPerFile: number;
  readonly rollAfterMs: number;
}

const noop = (): void => undefined;

export class KeyIndex {
  private durable: number;
  private failure: StorageError | null = null;
  private io: Promise<void> = Promise.resolve();
  private writeScheduled: NodeJS.Immediate | null = null;
  private readonly unsynced = new Set<IndexFile>();
  private dirDirty = false;
  private closed = false;
  private readonly ref: EntryRef = { buf: Buffer.alloc(0), at: 0 };

  private constructor(
    private readonly dir: string,
    private readonly config: Config,
    /** Ascending by first entry; the last one may be active. */
    private readonly files: IndexFile[],
    private next: number,
    readonly openReport: KeyIndexOpenReport,
  ) {
    this.durable = next;
  }

  static open(dir: string, options: KeyIndexOptions = {}): KeyIndex {
    const config: Config = {
      slotCount: positive('slotCount', options.slotCount ?? DEFAULT_SLOT_COUNT, 0xffffffff),
      entriesPerFile: positive('entriesPerFile', options.entriesPerFile ?? DEFAULT_ENTRIES_PER_FILE, 0xffffffff),
      rollAfterMs: positive('rollAfterMs', options.rollAfterMs ?? DEFAULT_ROLL_AFTER_MS, Number.MAX_SAFE_INTEGER),
    };
    mkdirSync(dir, { recursive: true });
    const { files, report } = recover(dir, options.durableEntries);
    const last = files[files.length - 1];
    return new KeyIndex(dir, config, files, last ? last.end : (options.durableEntries ?? 0), report);
  }

  /** Entries appended so far (the next entry's number). */
  get entries(): number {
    return this.next;
  }

  /** Entries made durable by the last completed flush (or found at open). */
  get durableEntries(): number {
    return this.durable;
  }

  /** Appends one entry per input; returns the entry count after them. Written in the background. */
  append(inputs: readonly KeyIndexInput[]): number {
    this.checkWritable();
    for (const input of inputs) validate(input);
    let i = 0;
    while (i < inputs.length) {
      const file = this.activeFile();
      const taken = file.append(inputs, i, this.config.rollAfterMs);
      if (taken === 0) this.roll(file);
      i += taken;
      this.next += taken;
    }
    if (inputs.length > 0 && !this.writeScheduled) this.writeScheduled = setImmediate(this.scheduledWrite);
    return this.next;
  }

  /** Writes and fdatasyncs every entry appended before the call; resolves to their count. */
  async flush(): Promise<number> {
    this.checkOpen();
    const target = this.next;
    await this.enqueue(async () => {
      await this.writeAll();
      const files = [...this.unsynced];
      this.unsynced.clear();
      await Promise.all(files.map((f) => f.sync()));
      if (this.dirDirty) {
        this.dirDirty = false;
        fsyncDirSync(this.dir);
      }
    });
    if (target > this.durable) this.durable = target;
    return target;
  }

  /**
   * Candidates for `key` (indexKey / messageIdKey), newest appended first, at most `limit`, with
   * storeTimeMs in [fromMs, toMs]. An unknown key gives no candidates.
   */
  lookup(key: string, options: LookupOptions): LookupResult {
    this.checkOpen();
    const hash = hashKey(key);
    const fromMs = options.fromMs ?? -Infinity;
    const toMs = options.toMs ?? Infinity;
    const before = options.cursor ?? Infinity;
    let budget = Math.max(1, options.maxScanned ?? DEFAULT_MAX_SCANNED);
    const out: KeyCandidate[] = [];
    if (options.limit <= 0) return { candidates: out };
    for (let f = this.files.length - 1; f >= 0; f--) {
      const file = this.files[f];
      if (file.count === 0 || file.firstEntry >= before) continue;
      if (file.endStoreTimeMs < fromMs || file.beginStoreTimeMs > toMs) continue;
      const maxN = Math.min(file.count, before - file.firstEntry);
      let n = this.chainStart(file, hash, maxN);
      let lastRead = maxN + 1;
      while (n > 0) {
        if (budget-- <= 0) return { candidates: out, cursor: file.firstEntry + lastRead - 1 };
        const { buf, at } = file.entry(n, this.ref);
        lastRead = n;
        const e = readEntry(buf, at);
        if (e.prev >= n) throw new StorageError('CORRUPT_RECORD', `key index ${file.path}: entry ${n} links forward`);
        if (n <= maxN && e.keyHash === hash && e.storeTimeMs >= fromMs && e.storeTimeMs <= toMs) {
          const entry = file.firstEntry + n - 1;
          out.push({ entry, brokerIndex: e.brokerIndex, physicalOffset: e.physicalOffset, storeTimeMs: e.storeTimeMs });
          if (out.length >= options.limit) return { candidates: out, cursor: entry };
        }
        n = e.prev;
      }
    }
    return { candidates: out };
  }

  /**
   * Deletes the oldest sealed files whose newest entry is older than `storeTimeMs`, stopping at
   * the first that is not; resolves to the number deleted. Runs in order with writes and syncs.
   */
  async retireBefore(storeTimeMs: number): Promise<number> {
    this.checkOpen();
    return this.enqueue(async () => {
      let retired = 0;
      while (this.files.length > 1) {
        const file = this.files[0];
        if (!file.sealed || file.active || file.endStoreTimeMs >= storeTimeMs) break;
        this.files.shift();
        this.unsynced.delete(file);
        file.close();
        unlinkSync(file.path);
        retired++;
      }
      if (retired > 0) fsyncDirSync(this.dir);
      return retired;
    });
  }

  /** Flushes, then closes every file. The active file's slot table is rebuilt at the next open. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (!this.failure) await this.flush();
    } finally {
      await this.io;
      this.closed = true;
      if (this.writeScheduled) clearImmediate(this.writeScheduled);
      this.writeScheduled = null;
      for (const f of this.files) f.close();
      this.files.length = 0;
    }
  }

  /**
   * Where to walk `file`'s chain for `hash` from, given that only entries ≤ maxN count. A cursor
   * names the last entry read; if it is in the same slot, its prev continues the chain.
   */
  private chainStart(file: IndexFile, hash: number, maxN: number): number {
    if (maxN >= file.count) return file.slotHead(hash);
    const { buf, at } = file.entry(maxN + 1, this.ref);
    const e = readEntry(buf, at);
    return e.keyHash % file.slotCount === hash % file.slotCount ? e.prev : file.slotHead(hash);
  }

  private activeFile(): IndexFile {
    const last = this.files[this.files.length - 1];
    if (last && last.active) return last;
    const file = IndexFile.create(this.dir, this.next, this.config.slotCount, this.config.entriesPerFile);
    this.files.push(file);
    this.dirDirty = true;
    return file;
  }

  /** Seals `file` in the background; the next append creates the next active file. */
  private roll(file: IndexFile): void {
    this.unsynced.delete(file);
    this.enqueue(() => file.seal()).catch(noop);
    // The sealing file keeps its table until the seal is on disk; appends go to a new file.
    this.files.push(IndexFile.create(this.dir, this.next, this.config.slotCount, this.config.entriesPerFile));
    this.dirDirty = true;
  }

  private readonly scheduledWrite = (): void => {
    this.writeScheduled = null;
    if (this.closed) return;
    this.enqueue(() => this.writeAll()).catch(noop);
  };

  private async writeAll(): Promise<void> {
    for (const file of this.files) {
      if (file.active && (await file.writePending())) this.unsynced.add(file);
    }
  }

  /** Runs `op` after every earlier I/O operation; the first failure makes the index read-only. */
  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const run = this.io.then(() => {
      if (this.failure) throw this.failure;
      return op();
    });
    this.io = run.then(noop, (e: unknown) => {
      this.failure ??= ioError('write', e);
    });
    return run;
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError('STORE_CLOSED', `key index ${this.dir} is closed`);
  }

  private checkWritable(): void {
    this.checkOpen();
    if (this.failure) {
      throw new StorageError('STORAGE_READ_ONLY', `key index ${this.dir} is read-only after an I/O failure`, {
        cause: this.failure,
      });
    }
  }
}

/** Opens the folder's files and applies the recovery rules (see the header). */
function recover(dir: string, durableEntries: number | undefined): { files: IndexFile[]; report: KeyIndexOpenReport } {
  const files: IndexFile[] = [];
  const deletedFiles: { name: string; reason: string; bytes: number }[] = [];
  let broken: string | null = null;
  for (const first of parseFileNames(readdirSync(dir))) {
    const prev = files[files.length - 1];
    if (!broken && durableEntries !== undefined && first >= durableEntries && (prev || first > durableEntries)) {
      broken = `past durable entry count ${durableEntries}`;
    }
    if (!broken && prev && first !== prev.end) broken = `gap after entry ${prev.end}`;
    const limit = durableEntries === undefined ? Infinity : Math.max(0, durableEntries - first);
    const opened: IndexFile | string = broken ?? IndexFile.open(dir, first, limit);
    if (typeof opened === 'string') {
      broken = opened;
      const path = join(dir, fileName(first));
      deletedFiles.push({ name: fileName(first), reason: opened, bytes: statSync(path).size });
      unlinkSync(path);
      continue;
    }
    files.push(opened);
  }
  // A file left active before the last one (its seal did not finish) is sealed now.
  for (let i = 0; i + 1 < files.length; i++) {
    if (files[i].active) files[i].sealSync();
  }
  if (deletedFiles.length > 0) fsyncDirSync(dir);
  const last = files[files.length - 1];
  const entries = last ? last.end : (durableEntries ?? 0);
  const missingEntries = durableEntries !== undefined && durableEntries > entries ? durableEntries - entries : 0;
  let droppedEntries = 0;
  let tornBytes = 0;
  for (const f of files) {
    droppedEntries += f.cutEntries;
    tornBytes += f.cutTornBytes;
  }
  return {
    files,
    report: { entries, files: files.length, droppedEntries, tornBytes, missingEntries, deletedFiles },
  };
}

function validate(input: KeyIndexInput): void {
  const ok =
    typeof input.key === 'string' &&
    Number.isInteger(input.brokerIndex) &&
    input.brokerIndex >= 0 &&
    input.brokerIndex <= MAX_BROKER_INDEX &&
    Number.isSafeInteger(input.physicalOffset) &&
    input.physicalOffset >= 0 &&
    Number.isSafeInteger(input.storeTimeMs) &&
    input.storeTimeMs >= 0;
  if (!ok) throw new StorageError('INVALID_MESSAGE', `key index: bad entry ${JSON.stringify(input)}`);
}

function positive(name: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value <= 0 || value > max) {
    throw new StorageError('INVALID_CONFIG', `key index ${name} must be an integer in [1, ${max}], got ${value}`);
  }
  return value;
}

