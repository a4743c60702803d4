/**
 * Crash suite: kill -9 a writer mid-stream. append-child.ts appends with 32 concurrent appenders
 * and prints every acknowledgement; the parent kills it with SIGKILL and reopens the store.
 * SYNC: every acknowledged message is readable and intact. ASYNC: the log is a clean prefix (no
 * torn record served); the page cache survives a process kill, so the loss is usually zero, and
 * it is only printed, not asserted.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { MessageStore, type FlushMode, type StoredMessage } from '../../src/index';
import { useTempDir } from '../temp-dir';
import { spawnChild } from './crash-child';
import { CHILD_QUEUES, CHILD_STORE, checkStored, childTopic } from './crash-messages';
import { allMessages, waitUntil } from './crash-store';

const CHILD = join(__dirname, 'append-child.ts');
const KILL_AFTER_MS = 1500; // kill by then even if fewer acknowledgements came
const MIN_ACKS = 200;

interface Ack {
  readonly physicalOffset: number;
  readonly queueOffset: number;
  readonly queueId: number;
}

interface KilledRun {
  readonly acks: Map<number, Ack>; // by seq
  /** Every seq below this had its append issued; none at or above it was. */
  readonly started: number;
}

let child: ChildProcess | undefined;

afterEach(() => {
  child?.kill('SIGKILL'); // a test that failed before its kill; registered before the temp dir's removal
  child = undefined;
});

const root = useTempDir('apogee-crash-kill-');

/** Runs append-child until `acks` acknowledgements (or KILL_AFTER_MS), then SIGKILLs it. */
async function runAndKill(dir: string, mode: FlushMode, run: number, acksBeforeKill: number): Promise<KilledRun> {
  const acks = new Map<number, Ack>();
  let started = 0;
  let firstAckAt = 0;
  const writer = spawnChild(CHILD, [dir, mode, String(run)], (line) => {
    const fields = line.split(' ');
    if (fields[0] === '+') {
      started = Math.max(started, Number(fields[1]) + 1);
      return;
    }
    const [seq, physicalOffset, queueOffset, queueId] = fields.map(Number);
    acks.set(seq, { physicalOffset, queueOffset, queueId });
    firstAckAt ||= Date.now();
  });
  child = writer.proc;
  await waitUntil(
    () => writer.exited() || acks.size >= acksBeforeKill || (acks.size >= MIN_ACKS && Date.now() - firstAckAt > KILL_AFTER_MS),
    () => `${acksBeforeKill} acknowledgements (got ${acks.size}; stderr: ${writer.stderr()})`,
    20_000,
  );
  expect({ exited: writer.exited(), stderr: writer.stderr() }).toEqual({ exited: false, stderr: '' });
  await writer.killAndWait();
  child = undefined;
  return { acks, started };
}

/** Every message of the run's topic, queue by queue; throws on a corrupt record. */
function messagesOf(store: MessageStore, run: number): StoredMessage[][] {
  return Array.from({ length: CHILD_QUEUES }, (_, q) => allMessages(store, childTopic(run), q));
}

/**
 * The run's messages in the store form a clean prefix of what the child issued: seqs 0..n-1,
 * each intact, each queue in seq order with QueueOffsets from 0. Returns n.
 */
function expectCleanPrefix(store: MessageStore, run: number, killed: KilledRun): number {
  const shape = { topic: childTopic(run), queues: CHILD_QUEUES };
  const seqs: number[] = [];
  const problems: string[] = [];
  messagesOf(store, run).forEach((messages, queueId) => {
    messages.forEach((m, i) => {
      const check = checkStored(m, shape);
      if ('problem' in check) return problems.push(check.problem);
      if (m.queueOffset !== i || check.seq !== queueId + i * CHILD_QUEUES) {
        problems.push(`queue ${queueId} entry ${i} (QueueOffset ${m.queueOffset}) holds seq ${check.seq}`);
      }
      seqs.push(check.seq);
    });
  });
  expect(problems).toEqual([]);
  seqs.sort((a, b) => a - b);
  expect(seqs).toEqual([...Array(seqs.length).keys()]);
  expect(seqs.length).toBeLessThanOrEqual(killed.started);
  return seqs.length;
}

/** Every acknowledged message, read by PhysicalOffset and through its queue: intact, where acked. */
function acknowledgedProblems(store: MessageStore, run: number, killed: KilledRun): string[] {
  const shape = { topic: childTopic(run), queues: CHILD_QUEUES };
  const problems: string[] = [];
  for (const [seq, ack] of killed.acks) {
    try {
      const byOffset = store.read(ack.physicalOffset);
      const [byQueue] = store.readQueue(childTopic(run), ack.queueId, ack.queueOffset, 1);
      for (const m of [byOffset, byQueue]) {
        const check = m ? checkStored(m, shape) : { problem: 'no queue entry' };
        const where = m && m.physicalOffset === ack.physicalOffset && m.queueOffset === ack.queueOffset;
        if ('problem' in check || check.seq !== seq || !where) {
          problems.push(`seq ${seq}: ${'problem' in check ? check.problem : `found seq ${check.seq} at ${m?.physicalOffset}`}`);
        }
      }
    } catch (err) {
      problems.push(`seq ${seq}: ${(err as Error).message}`);
    }
  }
  return problems;
}

function maxAckedEnd(store: MessageStore, killed: KilledRun): number {
  let end = 0;
  for (const ack of killed.acks.values()) end = Math.max(end, ack.physicalOffset + store.read(ack.physicalOffset).totalBytes);
  return end;
}

describe('crash: kill -9 of a writer', () => {
  it('SYNC: every acknowledged message survives, intact, across two kills of the same store', async () => {
    const dir = join(root(), 'store');
    const runs: KilledRun[] = [];
    for (const [run, acksBeforeKill] of [4000, 9000].entries()) {
      runs.push(await runAndKill(dir, 'SYNC', run, acksBeforeKill));
      const store = await MessageStore.open({ dir, ...CHILD_STORE, flushMode: 'SYNC' });
      try {
        const r = store.recovery;
        expect(r.cleanShutdown).toBe(false);
        // From the last checkpoint (one is written every 100 ms), or from the start without one.
        const checkpointAt = r.checkpoint ? Math.min(r.checkpoint.logSyncedOffset, r.checkpoint.dispatchedOffset) : 0;
        expect(r.scannedFrom).toBe(checkpointAt);
        expect(r.scannedFrom).toBeLessThanOrEqual(r.logEnd);
        runs.forEach((killed, i) => {
          expect(acknowledgedProblems(store, i, killed)).toEqual([]);
          expectCleanPrefix(store, i, killed);
        });
        // Whatever was cut lies past every acknowledged record.
        expect(r.logEnd).toBeGreaterThanOrEqual(maxAckedEnd(store, runs[run]));
        if (r.corruption) expect(r.corruption.offset).toBe(r.logEnd);
        expect(r.logEnd).toBe(store.maxPhysicalOffset);
      } finally {
        await store.close();
      }
    }
  }, 30_000);

  it('ASYNC: the recovered log is a clean prefix of what was issued; no torn record is served', async () => {
    const dir = join(root(), 'store');
    const killed = await runAndKill(dir, 'ASYNC', 0, 6000);
    const store = await MessageStore.open({ dir, ...CHILD_STORE, flushMode: 'ASYNC' });
    try {
      const r = store.recovery;
      expect(r.cleanShutdown).toBe(false);
      if (r.corruption) expect(r.corruption.offset).toBe(r.logEnd);
      const kept = expectCleanPrefix(store, 0, killed);
      const lost = [...killed.acks.keys()].filter((seq) => seq >= kept).length;
      console.log(`ASYNC kill -9: ${killed.acks.size} acknowledged, ${kept} recovered, ${lost} acknowledged lost`);
      // The store goes on from the prefix.
      const next = await store.append({ topic: childTopic(0), queueId: 0, body: Buffer.from('after'), messageId: 'after', bornTimestampMs: 0 });
      expect(next.physicalOffset).toBe(r.logEnd);
      expect(next.queueOffset).toBe(store.queueRange(childTopic(0), 0).max - 1);
    } finally {
      await store.close();
    }
  }, 30_000);
});
