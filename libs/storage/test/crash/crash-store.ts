/**
 * Helpers for the crash suite: small-segment store configs, turning a cleanly closed store folder
 * into the folder a crash would leave, and reading everything back.
 */
import { closeSync, cpSync, existsSync, openSync, readSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { MessageStore, type CqEntry, type StoreConfig, type StoredMessage } from '../../src/index';

const HOUR_MS = 3_600_000;

/** Small segments, and no timer that fires during a test unless a test asks for it. */
export const SMALL_STORE: Omit<Partial<StoreConfig>, 'dir'> = {
  segmentBytes: 1 << 20,
  maxBodyBytes: 64 * 1024,
  cqEntriesPerSegment: 64,
  flushMode: 'SYNC',
  checkpointIntervalMs: HOUR_MS,
  retentionCheckIntervalMs: HOUR_MS,
};

export function commitLogDir(storeDir: string): string {
  return join(storeDir, 'commitlog');
}

/** Commit-log segment files, oldest first: base PhysicalOffset, path and size. */
export function segmentFiles(storeDir: string): { base: number; path: string; bytes: number }[] {
  const dir = commitLogDir(storeDir);
  return readdirSync(dir)
    .filter((name) => /^\d{20}$/.test(name))
    .sort()
    .map((name) => ({ base: Number(name), path: join(dir, name), bytes: statSync(join(dir, name)).size }));
}

/** Makes `storeDir` look like a crash: abort marker present, and `checkpoint` (if given) restored
 * in place of the current one, or no checkpoint at all (recovery then scans the whole log). */
export function makeCrashState(storeDir: string, checkpoint?: Buffer): void {
  closeSync(openSync(join(storeDir, 'abort'), 'w'));
  const path = join(storeDir, 'checkpoint');
  rmSync(path, { force: true });
  if (checkpoint) {
    const fd = openSync(path, 'w');
    writeSync(fd, checkpoint);
    closeSync(fd);
  }
}

/** Replaces `to` by a copy of `from` (per-iteration copies of a prepared store). */
export function copyStore(from: string, to: string): void {
  rmSync(to, { recursive: true, force: true });
  cpSync(from, to, { recursive: true });
}

/**
 * Makes `to` a copy of `from` again, cheaply: the first call copies everything; later calls copy
 * only `changed` (paths relative to the store: what reopening `to` may have modified).
 */
export function restoreStore(from: string, to: string, changed: readonly string[]): void {
  if (!existsSync(to)) return copyStore(from, to);
  for (const name of changed) {
    rmSync(join(to, name), { recursive: true, force: true });
    if (existsSync(join(from, name))) cpSync(join(from, name), join(to, name), { recursive: true });
  }
}

/** XORs one byte of a file with 0xff (or `mask`). */
export function flipByte(path: string, position: number, mask = 0xff): void {
  const fd = openSync(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, position);
    b[0] ^= mask;
    writeSync(fd, b, 0, 1, position);
  } finally {
    closeSync(fd);
  }
}

/** Overwrites bytes of a file in place. */
export function writeBytes(path: string, position: number, bytes: Buffer): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, position);
  } finally {
    closeSync(fd);
  }
}

export function exists(storeDir: string, name: string): boolean {
  return existsSync(join(storeDir, name));
}

/** Every consume-queue entry of (topic, queueId) from min to max (reads span queue segments). */
export function allEntries(store: MessageStore, topic: string, queueId: number): CqEntry[] {
  const { min, max } = store.queueRange(topic, queueId);
  const out: CqEntry[] = [];
  for (let from = min; from < max; ) {
    const batch = store.entries(topic, queueId, from, max - from);
    if (batch.length === 0) throw new Error(`no entry at ${topic}/${queueId}@${from} below max ${max}`);
    out.push(...batch);
    from = batch[batch.length - 1].queueOffset + 1;
  }
  return out;
}

/** Every message of (topic, queueId) from min to max, through readQueue. */
export function allMessages(store: MessageStore, topic: string, queueId: number): StoredMessage[] {
  const { min, max } = store.queueRange(topic, queueId);
  const out: StoredMessage[] = [];
  for (let from = min; from < max; ) {
    const batch = store.readQueue(topic, queueId, from, max - from);
    if (batch.length === 0) throw new Error(`no message at ${topic}/${queueId}@${from} below max ${max}`);
    out.push(...batch);
    from = batch[batch.length - 1].queueOffset + 1;
  }
  return out;
}

/** Everything the consume queues say, per topic and queue: range and entries. */
export function queueSnapshot(store: MessageStore): Record<string, { min: number; max: number; entries: CqEntry[] }> {
  const out: Record<string, { min: number; max: number; entries: CqEntry[] }> = {};
  for (const topic of store.topics().sort()) {
    for (const queueId of store.queueIds(topic).sort((a, b) => a - b)) {
      out[`${topic}/${queueId}`] = { ...store.queueRange(topic, queueId), entries: allEntries(store, topic, queueId) };
    }
  }
  return out;
}

export { waitUntil } from '../wait-until';
