import { closeSync, fdatasync, openSync, rmSync, write } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { MiB } from './report';

/**
 * 1. The raw baseline: sequential write bandwidth of the disk, in the same folder the store
 * uses. 1 MiB positional writes of the same buffer into a fresh file (callback `fs.write`, one
 * in flight, as the store's writer does), then one fdatasync. No per-record work at all.
 */

export interface RawResult {
  readonly bytes: number;
  /** Including the final fdatasync. */
  readonly bytesPerSec: number;
  /** Until the last write returned (page cache only). */
  readonly writeBytesPerSec: number;
  readonly syncMs: number;
}

function writeAt(fd: number, buf: Buffer, position: number): Promise<void> {
  return new Promise((resolve, reject) =>
    write(fd, buf, 0, buf.length, position, (err, n) =>
      err ? reject(err) : n !== buf.length ? reject(new Error(`short write ${n}/${buf.length}`)) : resolve(),
    ),
  );
}

function datasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

export async function measureRawWrite(dir: string, bytes: number): Promise<RawResult> {
  const path = join(dir, `raw-${process.pid}-${Date.now()}.bin`);
  const buf = randomBytes(MiB);
  const fd = openSync(path, 'wx');
  try {
    const started = performance.now();
    for (let pos = 0; pos < bytes; pos += MiB) await writeAt(fd, buf, pos);
    const written = performance.now();
    await datasync(fd);
    const synced = performance.now();
    return {
      bytes,
      bytesPerSec: bytes / ((synced - started) / 1000),
      writeBytesPerSec: bytes / ((written - started) / 1000),
      syncMs: synced - written,
    };
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
}
