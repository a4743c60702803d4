import {
  closeSync,
  constants,
  fdatasync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readSync,
  writev,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { StorageError } from '../errors';
import {
  ENTRY_BYTES,
  HEADER_BYTES,
  SLOT_BYTES,
  decodeHeader,
  encodeHeader,
  entryCrcOk,
  entryKeyHash,
  entryPosition,
  entryPrev,
  entryStoreTime,
  fileName,
  hashKey,
  writeEntry,
  type KeyIndexInput,
} from './key-index-format';

/**
 * One key-index file (layout: key-index-format.ts). Active: entries are encoded into in-memory
 * chunks by `append`, written by `writePending` (one positional writev of up to 1 MiB per call)
 * and read back from the chunks until their write returned; the slot table lives in memory.
 * Sealed: slot table and header are on disk, the memory table is dropped, reads are positional.
 */

/** Most bytes per writev call (NODE-PERFORMANCE.md §1). */
const MAX_WRITE_BYTES = 1 << 20;
/** Bytes read per call while scanning entries at open. */
const SCAN_CHUNK_BYTES = 1 << 20;

interface Chunk {
  /** Number (1-based) of the chunk's first entry. */
  readonly from: number;
  readonly buf: Buffer;
}

/** A place to read one entry from: a buffer and the entry's byte there. */
export interface EntryRef {
  buf: Buffer;
  at: number;
}

export class IndexFile {
  /** Entries in the file (appended, written or not). */
  count = 0;
  /** Entries whose write has returned (all of them once sealed). */
  private written = 0;
  beginStoreTimeMs = 0;
  endStoreTimeMs = 0;
  /** Header and slot table on disk are final. */
  sealed = false;
  /** Set by the recovery scan: whole entry places and partial-entry bytes cut from the end. */
  cutEntries = 0;
  cutTornBytes = 0;
  /** The slot table while the file is active or being sealed (big-endian u32, as on disk). */
  private slots: Buffer | null = null;
  private pending: Chunk[] = [];
  private readonly scratch = Buffer.allocUnsafe(ENTRY_BYTES);

  private constructor(
    readonly path: string,
    private readonly fd: number,
    readonly firstEntry: number,
    readonly slotCount: number,
    readonly capacity: number,
  ) {}

  /** Creates an empty active file (unsealed header; entries start after the slot area). */
  static create(dir: string, firstEntry: number, slotCount: number, capacity: number): IndexFile {
    const path = join(dir, fileName(firstEntry));
    const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC, 0o644);
    const file = new IndexFile(path, fd, firstEntry, slotCount, capacity);
    file.slots = Buffer.alloc(slotCount * SLOT_BYTES);
    try {
      writeSync(fd, file.header(), 0, HEADER_BYTES, 0);
      ftruncateSync(fd, entryPosition(slotCount, 1));
    } catch (e) {
      closeSync(fd);
      throw ioError('create', e);
    }
    return file;
  }

  /**
   * Opens an existing file: a sealed one as is; an active one (or a sealed one shorter than its
   * header claims) by scanning its entries, at most `limit`, rebuilding the slot table and
   * truncating anything after the last good entry. A bad header is returned as a reason.
   */
  static open(dir: string, firstEntry: number, limit = Infinity): IndexFile | string {
    const path = join(dir, fileName(firstEntry));
    const fd = openSync(path, constants.O_RDWR);
    const buf = Buffer.alloc(HEADER_BYTES);
    const h = decodeHeader(buf.subarray(0, readSync(fd, buf, 0, HEADER_BYTES, 0)));
    if (typeof h === 'string' || h.firstEntry !== firstEntry) {
      closeSync(fd);
      return typeof h === 'string' ? h : `header names entry ${h.firstEntry}`;
    }
    const file = new IndexFile(path, fd, firstEntry, h.slotCount, h.entryCapacity);
    const complete = fstatSync(fd).size >= entryPosition(h.slotCount, h.entryCount + 1);
    if (h.sealed && complete && h.entryCount <= limit) {
      file.sealed = true;
      file.count = file.written = h.entryCount;
      file.beginStoreTimeMs = h.beginStoreTimeMs;
      file.endStoreTimeMs = h.endStoreTimeMs;
    } else {
      file.rebuild(limit);
    }
    return file;
  }

  /** Entry number of this file's first entry plus its count: the next file's first entry. */
  get end(): number {
    return this.firstEntry + this.count;
  }

  get active(): boolean {
    return this.slots !== null;
  }

  /**
   * Appends inputs[from..] until the file is full or an input is `rollAfterMs` or more past the
   * file's oldest entry; returns how many were taken. One chunk per call, encoded in place.
   */
  append(inputs: readonly KeyIndexInput[], from: number, rollAfterMs: number): number {
    const slots = this.slots;
    if (!slots) throw new Error(`index file ${this.path} is sealed`);
    let to = from;
    const room = this.capacity - this.count;
    const oldest = this.count > 0 ? this.beginStoreTimeMs : inputs[from].storeTimeMs;
    while (to < inputs.length && to - from < room && inputs[to].storeTimeMs - oldest < rollAfterMs) to++;
    if (to === from) return 0;
    const buf = Buffer.allocUnsafe((to - from) * ENTRY_BYTES);
    const chunk: Chunk = { from: this.count + 1, buf };
    for (let i = from; i < to; i++) {
      const input = inputs[i];
      const hash = hashKey(input.key);
      const at = (hash % this.slotCount) * SLOT_BYTES;
      const n = ++this.count;
      writeEntry(buf, (i - from) * ENTRY_BYTES, hash, slots.readUInt32BE(at), input);
      slots.writeUInt32BE(n, at);
      this.noteTime(input.storeTimeMs, n);
    }
    this.pending.push(chunk);
    return to - from;
  }

  /** Newest entry number (1-based) in the slot of `hash`; 0 if none. */
  slotHead(hash: number): number {
    const at = (hash % this.slotCount) * SLOT_BYTES;
    if (this.slots) return this.slots.readUInt32BE(at);
    this.readExactly(this.scratch, SLOT_BYTES, HEADER_BYTES + at);
    return this.scratch.readUInt32BE(0);
  }

  /** Where entry n (1-based, n ≤ count) can be read; CRC-checked. Valid until the next call. */
  entry(n: number, ref: EntryRef): EntryRef {
    if (n > this.written) {
      for (const c of this.pending) {
        const at = (n - c.from) * ENTRY_BYTES;
        if (at >= 0 && at < c.buf.length) {
          ref.buf = c.buf;
          ref.at = at;
          return ref;
        }
      }
    }
    this.readExactly(this.scratch, ENTRY_BYTES, entryPosition(this.slotCount, n));
    if (!entryCrcOk(this.scratch, 0)) {
      throw new StorageError('CORRUPT_RECORD', `key index ${this.path}: entry ${n} crc mismatch`);
    }
    ref.buf = this.scratch;
    ref.at = 0;
    return ref;
  }

  /** Writes every appended chunk (positional writev, ≤ 1 MiB per call). */
  async writePending(): Promise<boolean> {
    let wrote = false;
    while (this.pending.length > 0) {
      let k = 0;
      let bytes = 0;
      while (k < this.pending.length && (k === 0 || bytes + this.pending[k].buf.length <= MAX_WRITE_BYTES)) {
        bytes += this.pending[k++].buf.length;
      }
      const bufs = this.pending.slice(0, k).map((c) => c.buf);
      await writevAll(this.fd, bufs, bytes, entryPosition(this.slotCount, this.written + 1));
      this.written += bytes / ENTRY_BYTES;
      this.pending.splice(0, k);
      wrote = true;
    }
    return wrote;
  }

  /** Makes the file's written entries durable. */
  sync(): Promise<void> {
    return new Promise((ok, ko) => fdatasync(this.fd, (e) => (e ? ko(ioError('fdatasync', e)) : ok())));
  }

  /**
   * Seals the file: its entries, then the slot table, are written and synced before the sealed
   * header (and synced again), so a sealed header always has its table and entries on disk.
   */
  async seal(): Promise<void> {
    const slots = this.slots;
    if (!slots) return;
    await this.writePending();
    await writevAll(this.fd, [slots], slots.length, HEADER_BYTES);
    await this.sync();
    this.sealed = true;
    const header = this.header();
    await writevAll(this.fd, [header], HEADER_BYTES, 0);
    await this.sync();
    this.slots = null;
  }

  /** The same as seal, blocking (at open, for a file whose seal a crash interrupted). */
  sealSync(): void {
    const slots = this.slots;
    if (!slots || this.pending.length > 0) throw new Error(`index file ${this.path}: sealSync with unwritten entries`);
    try {
      writeSync(this.fd, slots, 0, slots.length, HEADER_BYTES);
      fdatasyncSync(this.fd);
      this.sealed = true;
      writeSync(this.fd, this.header(), 0, HEADER_BYTES, 0);
      fdatasyncSync(this.fd);
    } catch (e) {
      throw ioError('seal', e);
    }
    this.slots = null;
  }

  close(): void {
    closeSync(this.fd);
  }

  /**
   * Recovery scan: reads entries in file order, at most `limit`, and stops at the first one whose
   * CRC fails or whose prev is not the slot's current head (a torn or stale entry). Rebuilds the
   * slot table and times, cuts the file after the last good entry, and marks it active on disk.
   */
  private rebuild(limit: number): void {
    const slots = Buffer.alloc(this.slotCount * SLOT_BYTES);
    const max = Math.min(limit, this.capacity);
    const size = fstatSync(this.fd).size;
    const chunk = Buffer.allocUnsafe(SCAN_CHUNK_BYTES - (SCAN_CHUNK_BYTES % ENTRY_BYTES));
    this.count = 0;
    scan: while (this.count < max) {
      const pos = entryPosition(this.slotCount, this.count + 1);
      const want = Math.min(chunk.length, (max - this.count) * ENTRY_BYTES, size - pos);
      if (want < ENTRY_BYTES) break;
      const got = readSync(this.fd, chunk, 0, want, pos);
      for (let at = 0; at + ENTRY_BYTES <= got; at += ENTRY_BYTES) {
        const hash = entryKeyHash(chunk, at);
        const slotAt = (hash % this.slotCount) * SLOT_BYTES;
        if (!entryCrcOk(chunk, at) || entryPrev(chunk, at) !== slots.readUInt32BE(slotAt)) break scan;
        const n = ++this.count;
        slots.writeUInt32BE(n, slotAt);
        this.noteTime(entryStoreTime(chunk, at), n);
      }
      if (got < want) break;
    }
    this.written = this.count;
    this.slots = slots;
    this.sealed = false;
    try {
      const end = entryPosition(this.slotCount, this.count + 1);
      const cut = Math.max(0, size - end);
      this.cutEntries = Math.floor(cut / ENTRY_BYTES);
      this.cutTornBytes = cut % ENTRY_BYTES;
      if (size !== end) ftruncateSync(this.fd, end);
      writeSync(this.fd, this.header(), 0, HEADER_BYTES, 0);
    } catch (e) {
      throw ioError('truncate', e);
    }
  }

  private noteTime(storeTimeMs: number, n: number): void {
    if (n === 1 || storeTimeMs < this.beginStoreTimeMs) this.beginStoreTimeMs = storeTimeMs;
    if (n === 1 || storeTimeMs > this.endStoreTimeMs) this.endStoreTimeMs = storeTimeMs;
  }

  private header(): Buffer {
    return encodeHeader({
      sealed: this.sealed,
      slotCount: this.slotCount,
      entryCapacity: this.capacity,
      entryCount: this.sealed ? this.count : 0,
      firstEntry: this.firstEntry,
      beginStoreTimeMs: this.sealed ? this.beginStoreTimeMs : 0,
      endStoreTimeMs: this.sealed ? this.endStoreTimeMs : 0,
    });
  }

  private readExactly(buf: Buffer, bytes: number, position: number): void {
    const got = readSync(this.fd, buf, 0, bytes, position);
    if (got !== bytes) {
      throw new StorageError('CORRUPT_RECORD', `key index ${this.path}: short read at ${position}`);
    }
  }
}

function writevAll(fd: number, bufs: Buffer[], bytes: number, position: number): Promise<void> {
  return new Promise((ok, ko) =>
    writev(fd, bufs, position, (e, written) => {
      if (e) ko(ioError('write', e));
      else if (written !== bytes) ko(ioError('write', new Error(`short write ${written}/${bytes}`)));
      else ok();
    }),
  );
}

export function ioError(op: string, cause: unknown): StorageError {
  if (cause instanceof StorageError) return cause;
  return new StorageError('IO_ERROR', `key index ${op} failed: ${(cause as Error).message}`, { cause });
}
