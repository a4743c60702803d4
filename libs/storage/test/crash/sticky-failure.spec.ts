/**
 * Crash suite: a failed write or sync is sticky. The commit log's writes (its write thread's
 * answers) and `fdatasync` (and the consume queues' sync at a checkpoint) are made to fail
 * in-process; every pending append must be rejected with IO_ERROR, every later one refused with
 * STORAGE_READ_ONLY, nothing acknowledged after the failure, and close() must leave the abort
 * marker so the next open recovers. The write thread's own error answers: write-worker.spec.ts.
 *
 * The engine imports `{ fdatasync } from 'node:fs'`; under @swc/jest's CommonJS output that is a
 * member read of the shared `node:fs` module object at call time, so spying on the default
 * import (that same object) reaches it. Writes are failed at WriteWorker.prototype.writev.
 */
import fs from 'node:fs';
import { join } from 'node:path';
import { WriteWorker, type WriteCallback } from '../../src/commit-log/write-worker';
import { MessageStore, StorageError, type AppendResult, type FlushMode } from '../../src/index';
import { useTempDir } from '../temp-dir';
import { checkStored, messageOf } from './crash-messages';
import { SMALL_STORE, exists, waitUntil } from './crash-store';

const root = useTempDir('apogee-crash-sticky-');

afterEach(() => jest.restoreAllMocks());

function eio(syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`EIO: i/o error, ${syscall}`), { code: 'EIO', errno: -5, syscall });
}

/** Every fdatasync after the first `okCalls` fails with EIO (asynchronously, as the real one). */
function failFdatasyncAfter(okCalls: number, onFail: () => void): void {
  const real = fs.fdatasync;
  let calls = 0;
  jest.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, callback: fs.NoParamCallback) => {
    if (++calls <= okCalls) return real(fd, callback);
    setImmediate(() => {
      onFail();
      callback(eio('fdatasync'));
    });
  }) as typeof fs.fdatasync);
}

interface Outcome {
  readonly seq: number;
  readonly result: 'ok' | string; // 'ok' or the StorageError code
  /** Whether the failure had already happened when the append was issued / settled. */
  readonly issuedAfterFailure: boolean;
  readonly settledAfterFailure: boolean;
  readonly ack?: AppendResult;
}

/** Issues appends and records how and when each one settles relative to `failed()`. */
function appender(store: MessageStore, failed: () => boolean) {
  const outcomes: Outcome[] = [];
  const inFlight: Promise<void>[] = [];
  let seq = 0;
  const issue = (count: number): Promise<void> => {
    const wave: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const s = seq++;
      const issuedAfterFailure = failed();
      const settle = (result: string, ack?: AppendResult): void => {
        outcomes.push({ seq: s, result, issuedAfterFailure, settledAfterFailure: failed(), ack });
      };
      const p = (async () => store.append(messageOf(s)))().then(
        (ack) => settle('ok', ack),
        (err: unknown) => settle(err instanceof StorageError ? err.code : String(err)),
      );
      wave.push(p);
      inFlight.push(p);
    }
    return Promise.all(wave).then(() => undefined);
  };
  return { outcomes, issue, settled: () => Promise.all(inFlight) };
}

/** The next open sees a crash and every acknowledged message is there, intact. */
/** Appends that all resolved before any failure, as outcomes. */
function ackedOutcomes(acked: AppendResult[]): Outcome[] {
  return acked.map((ack, seq) => ({ seq, ack, result: 'ok', issuedAfterFailure: false, settledAfterFailure: false }));
}

/** With the real fs back: the store left its abort marker, and every acknowledged append survived. */
async function expectRecoveredAfterFailure(dir: string, outcomes: Outcome[], flushMode: FlushMode): Promise<void> {
  jest.restoreAllMocks();
  const acked = outcomes.filter((o) => o.result === 'ok');
  expect(exists(dir, 'abort')).toBe(true);
  const store = await MessageStore.open({ dir, ...SMALL_STORE, flushMode });
  try {
    expect(store.recovery.cleanShutdown).toBe(false);
    for (const o of acked) expect(checkStored(store.read(o.ack?.physicalOffset ?? -1))).toEqual({ seq: o.seq });
    const next = await store.append(messageOf(10_000));
    expect(checkStored(store.read(next.physicalOffset))).toEqual({ seq: 10_000 });
  } finally {
    await store.close();
  }
}

describe('crash: a failed write or sync is sticky', () => {
  it('SYNC, fdatasync fails: pending appends get IO_ERROR, later ones STORAGE_READ_ONLY, none an OK', async () => {
    const dir = join(root(), 'store');
    const store = await MessageStore.open({ dir, ...SMALL_STORE, flushMode: 'SYNC' });
    let failed = false;
    const a = appender(store, () => failed);
    failFdatasyncAfter(2, () => (failed = true));
    await a.issue(20); // synced by fdatasync #1
    await a.issue(20); // #2
    const third = a.issue(20); // #3 fails…
    await new Promise((resolve) => setImmediate(resolve));
    const fourth = a.issue(20); // …these are written while it runs, or wait for it
    await Promise.all([third, fourth]);
    await a.issue(20); // after the failure
    await a.settled();

    const summary = (o: Outcome): string => `${o.result}${o.settledAfterFailure ? ' after' : ' before'}`;
    expect(a.outcomes.filter((o) => o.seq < 40).map(summary)).toEqual(Array(40).fill('ok before'));
    expect(a.outcomes.filter((o) => o.seq >= 40 && o.seq < 80).map(summary)).toEqual(Array(40).fill('IO_ERROR after'));
    expect(a.outcomes.filter((o) => o.seq >= 80).map((o) => o.result)).toEqual(Array(20).fill('STORAGE_READ_ONLY'));

    await expect(store.close()).resolves.toBeUndefined();
    await expectRecoveredAfterFailure(dir, a.outcomes, 'SYNC');
  });

  it('ASYNC, writev fails: pending appends get IO_ERROR and nothing of them is dispatched; later ones STORAGE_READ_ONLY', async () => {
    const dir = join(root(), 'store');
    const store = await MessageStore.open({ dir, ...SMALL_STORE, flushMode: 'ASYNC' });
    let failed = false;
    const a = appender(store, () => failed);
    await a.issue(50);
    const written = store.maxPhysicalOffset;
    jest.spyOn(WriteWorker.prototype, 'writev').mockImplementation((_fd: number, _buffers: readonly Buffer[], _position: number, callback: WriteCallback) => {
      setImmediate(() => {
        failed = true;
        callback(eio('writev'), 0, []);
      });
    });
    await a.issue(30);
    await a.issue(10);
    await a.settled();

    expect(a.outcomes.filter((o) => o.seq < 50).every((o) => o.result === 'ok' && !o.settledAfterFailure)).toBe(true);
    expect(a.outcomes.filter((o) => o.seq >= 50 && o.seq < 80).map((o) => o.result)).toEqual(Array(30).fill('IO_ERROR'));
    expect(a.outcomes.filter((o) => o.seq >= 80).map((o) => o.result)).toEqual(Array(10).fill('STORAGE_READ_ONLY'));
    expect(store.maxPhysicalOffset).toBe(written);
    expect(store.queueRange('crash', 0)).toEqual({ min: 0, max: 13 }); // seqs 0, 4, …, 48
    const err = await (async () => store.append(messageOf(999)))().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ code: 'STORAGE_READ_ONLY', retriable: false });
    expect((err as StorageError).message).toMatch(/read-only after an I\/O error: commit log write failed/);

    await store.close();
    await expectRecoveredAfterFailure(dir, a.outcomes, 'ASYNC');
  });

  it('ASYNC, a short write is a failure too', async () => {
    const dir = join(root(), 'store');
    const store = await MessageStore.open({ dir, ...SMALL_STORE, flushMode: 'ASYNC' });
    const real = WriteWorker.prototype.writev;
    jest.spyOn(WriteWorker.prototype, 'writev').mockImplementation(function (this: WriteWorker, fd, buffers, position, callback) {
      const last = buffers[buffers.length - 1];
      real.call(this, fd, [...buffers.slice(0, -1), last.subarray(0, last.length - 1)], position, callback); // one byte short
    });
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => store.append(messageOf(i))));
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as StorageError).code : 'ok'))).toEqual(Array(10).fill('IO_ERROR'));
    await expect((async () => store.append(messageOf(10)))()).rejects.toMatchObject({ code: 'STORAGE_READ_ONLY' });
    await store.close();
    await expectRecoveredAfterFailure(dir, [], 'ASYNC');
  });

  it('ASYNC, the background fdatasync fails: the store turns read-only', async () => {
    const dir = join(root(), 'store');
    const store = await MessageStore.open({ dir, ...SMALL_STORE, flushMode: 'ASYNC', flushIntervalMs: 20 });
    let failed = false;
    failFdatasyncAfter(0, () => (failed = true));
    const acked = await Promise.all(Array.from({ length: 20 }, (_, i) => store.append(messageOf(i)))); // acked once written
    await waitUntil(() => failed, () => 'the flush timer to sync');
    await expect((async () => store.append(messageOf(20)))()).rejects.toMatchObject({ code: 'STORAGE_READ_ONLY' });
    await store.close();
    await expectRecoveredAfterFailure(dir, ackedOutcomes(acked), 'ASYNC');
  });

  it('a failed checkpoint (consume-queue sync) is sticky too', async () => {
    const dir = join(root(), 'store');
    const store = await MessageStore.open({ dir, ...SMALL_STORE, flushMode: 'SYNC' });
    const acked = await Promise.all(Array.from({ length: 20 }, (_, i) => store.append(messageOf(i))));
    failFdatasyncAfter(0, () => undefined);
    await expect(store.checkpoint()).rejects.toMatchObject({ code: 'IO_ERROR' });
    await expect((async () => store.append(messageOf(20)))()).rejects.toMatchObject({ code: 'STORAGE_READ_ONLY' });
    await store.close();
    await expectRecoveredAfterFailure(dir, ackedOutcomes(acked), 'SYNC');
  });
});
