/**
 * Crash suite, replication: replicate-child.ts copies a master's log into a SYNC slave and is
 * killed with SIGKILL mid-stream. The reopened slave's log must be a byte-identical prefix of the
 * master's that holds every acknowledged chunk; replication then resumes from the slave's
 * maxPhysicalOffset and ends with the same files and the same consume queues as the master.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MessageStore } from '../../src/index';
import { useTempDir } from '../temp-dir';
import { spawnChild } from './crash-child';
import { CHILD_QUEUES, CHILD_STORE, messageOf } from './crash-messages';
import { queueSnapshot, waitUntil } from './crash-store';

const CHILD = join(__dirname, 'replicate-child.ts');
const MESSAGES = 12_000; // ~3 MB: about 11 segments
const ACKS_BEFORE_KILL = 150;

let child: ChildProcess | undefined;

afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
});

const root = useTempDir('apogee-crash-replica-');

function segments(storeDir: string): Map<string, Buffer> {
  const dir = join(storeDir, 'commitlog');
  return new Map(readdirSync(dir).sort().map((name) => [name, readFileSync(join(dir, name))]));
}

/** Runs replicate-child until ACKS_BEFORE_KILL chunks are acknowledged, SIGKILLs it; returns the highest acknowledged end. */
async function runAndKill(masterDir: string, slaveDir: string): Promise<number> {
  let acks = 0;
  let ackedEnd = 0;
  let caughtUp = false;
  const run = spawnChild(CHILD, [masterDir, slaveDir], (line) => {
    if (line === 'caught-up') caughtUp = true;
    else {
      acks++;
      ackedEnd = Math.max(ackedEnd, Number(line.split(' ')[1]));
    }
  });
  child = run.proc;
  await waitUntil(() => run.exited() || caughtUp || acks >= ACKS_BEFORE_KILL, () => `${ACKS_BEFORE_KILL} acknowledged chunks (got ${acks}; stderr: ${run.stderr()})`, 20_000);
  expect({ exited: run.exited(), caughtUp, stderr: run.stderr() }).toEqual({ exited: false, caughtUp: false, stderr: '' });
  await run.killAndWait();
  child = undefined;
  return ackedEnd;
}

describe('crash: kill -9 of a replicating slave (SYNC)', () => {
  it('leaves a byte-identical prefix of the master holding every acknowledged chunk, and resumes from its end', async () => {
    const masterDir = join(root(), 'master');
    const slaveDir = join(root(), 'slave');
    let master = await MessageStore.open({ dir: masterDir, ...CHILD_STORE });
    for (let seq = 0; seq < MESSAGES; seq += 200) {
      await Promise.all(Array.from({ length: 200 }, (_, k) => master.append(messageOf(seq + k, { queues: CHILD_QUEUES }))));
    }
    await master.close();

    const ackedEnd = await runAndKill(masterDir, slaveDir);
    const slave = await MessageStore.open({ dir: slaveDir, ...CHILD_STORE, flushMode: 'SYNC' });
    master = await MessageStore.open({ dir: masterDir, ...CHILD_STORE });
    try {
      expect(slave.recovery.cleanShutdown).toBe(false);
      expect(slave.maxPhysicalOffset).toBeGreaterThanOrEqual(ackedEnd);
      expect(slave.maxPhysicalOffset).toBeLessThan(master.maxPhysicalOffset);
      const m = segments(masterDir);
      const s = [...segments(slaveDir)];
      s.forEach(([name, bytes], i) => {
        const full = m.get(name) as Buffer;
        expect(full).toBeDefined();
        if (i < s.length - 1) expect(bytes.length).toBe(full.length);
        expect(bytes.equals(full.subarray(0, bytes.length))).toBe(true);
      });
      // Resume from where the slave stands, to the end.
      let from = slave.maxPhysicalOffset;
      for (;;) {
        const { bytes, next } = master.readLogBytes(from, 64 * 1024);
        if (bytes.length === 0) break;
        expect(await slave.appendReplicated(from, bytes)).toBe(next);
        from = next;
      }
      expect(slave.maxPhysicalOffset).toBe(master.maxPhysicalOffset);
      expect(queueSnapshot(slave)).toEqual(queueSnapshot(master));
    } finally {
      await Promise.all([slave.close(), master.close()]);
    }
    const m = segments(masterDir);
    const s = segments(slaveDir);
    expect([...s.keys()]).toEqual([...m.keys()]);
    for (const [name, bytes] of m) expect(s.get(name)?.equals(bytes)).toBe(true);
  }, 40_000);
});
