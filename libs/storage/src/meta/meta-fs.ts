/**
 * The file-system calls the metadata store makes, behind a small interface so tests can make
 * any one of them fail; and the one durable-replace routine (tmp + fsync + rename + fsync dir).
 * Node's `fs.promises` is the production implementation.
 */
import { promises as fsp, writeSync } from 'node:fs';
import * as path from 'node:path';

import { StorageError, type StorageErrorCode } from '../errors';

/** The subset of `fs.promises.FileHandle` used here. */
export interface MetaFileHandle {
  write(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  /** fdatasync(2). */
  datasync(): Promise<void>;
  /** fsync(2). */
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

/** The subset of `fs.promises` used here. */
export interface MetaFileSystem {
  open(file: string, flags: string): Promise<MetaFileHandle>;
  readFile(file: string): Promise<Buffer>;
  readdir(dir: string): Promise<string[]>;
  rename(from: string, to: string): Promise<void>;
  unlink(file: string): Promise<void>;
  /** Resolves to the first directory created, or undefined when `dir` already existed. */
  mkdir(dir: string, options: { recursive: true }): Promise<string | undefined>;
}

export const nodeMetaFileSystem: MetaFileSystem = {
  open: (file, flags) => fsp.open(file, flags),
  readFile: (file) => fsp.readFile(file),
  readdir: (dir) => fsp.readdir(dir),
  rename: (from, to) => fsp.rename(from, to),
  unlink: (file) => fsp.unlink(file),
  mkdir: (dir, options) => fsp.mkdir(dir, options),
};

/**
 * Journal records up to this size are written with one synchronous pwrite on the caller's thread:
 * a small write into the page cache costs a few µs there, while an async one is a threadpool
 * round trip (30–40 µs of CPU, NODE-PERFORMANCE.md §1) and a wake-up that stalls a busy loop.
 */
const SYNC_WRITE_MAX_BYTES = 64 * 1024;

/** Writes all of `buffer` at `position`, looping over short writes. */
export async function writeFully(handle: MetaFileHandle, buffer: Buffer, position: number): Promise<void> {
  const fd = (handle as { fd?: unknown }).fd; // a real FileHandle (tests pass wrappers without one)
  if (typeof fd === 'number' && buffer.length <= SYNC_WRITE_MAX_BYTES) {
    for (let done = 0; done < buffer.length; ) done += writeSync(fd, buffer, done, buffer.length - done, position + done);
    return;
  }
  let done = 0;
  while (done < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, done, buffer.length - done, position + done);
    done += bytesWritten;
  }
}

/** fsync(2) on a directory, so that creates, renames and deletes in it are durable. */
export async function syncDirectory(fs: MetaFileSystem, dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Creates `dir` and missing parents durably: fsyncs every directory that gained an entry, so a
 * power loss cannot take back a directory whose files were already acknowledged.
 */
export async function makeDirectoryDurably(fs: MetaFileSystem, dir: string): Promise<void> {
  const first = await fs.mkdir(dir, { recursive: true });
  if (first === undefined) return;
  const stop = path.dirname(path.resolve(first));
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    await syncDirectory(fs, current);
    if (current === stop || current === path.dirname(current)) return;
  }
}

/**
 * Creates a new file that must not exist yet, writes `content`, fsyncs it and returns it open
 * for further positional writes. The caller makes the directory entry durable.
 */
export async function createFileSynced(fs: MetaFileSystem, file: string, content: Buffer): Promise<MetaFileHandle> {
  const handle = await fs.open(file, 'wx+');
  try {
    await writeFully(handle, content, 0);
    await handle.sync();
    return handle;
  } catch (err) {
    await handle.close().catch(() => undefined); // the write error is the one to report
    throw err;
  }
}

/** Replaces `file` atomically and durably: write `file.tmp`, fsync, rename, fsync the directory. */
export async function replaceFileDurably(fs: MetaFileSystem, file: string, content: Buffer): Promise<void> {
  const tmp = `${file}${TMP_SUFFIX}`;
  const handle = await fs.open(tmp, 'w');
  try {
    await writeFully(handle, content, 0);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(tmp, file);
  await syncDirectory(fs, path.dirname(file));
}

export const TMP_SUFFIX = '.tmp';

/** Wraps a file-system failure in the storage error class; ENOSPC becomes DISK_FULL. */
export function toStorageError(err: unknown, action: string, options: { retriable?: boolean } = {}): StorageError {
  if (err instanceof StorageError) return err;
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  const code: StorageErrorCode = errno === 'ENOSPC' ? 'DISK_FULL' : 'IO_ERROR';
  const detail = err instanceof Error ? err.message : String(err);
  return new StorageError(code, `${action}: ${detail}`, { cause: err, retriable: options.retriable });
}
