/**
 * EtcdLeaderElection against a real etcd (test/etcd-server.ts starts one per test): one leader
 * among candidates, fast takeover on resign, takeover after a leader is killed -9 (lease expiry),
 * and a leader stepping down when etcd dies. Fails, never skips, when etcd is not installed.
 */
import type { Logger } from '@apogee/runtime';
import { WORKSPACE_ROOT, waitFor } from '@apogee/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Etcd3 } from 'etcd3';
import { assertEtcdInstalled, startEtcd, type EtcdServer } from '../../test/etcd-server';
import { EtcdLeaderElection } from './etcd-election';
import { soloElection } from './leader-election';

const CHILD_SCRIPT = path.join(WORKSPACE_ROOT, 'apps/ha-replicator/test/election-child.ts');

interface LogEntry {
  level: string;
  msg?: string;
  fields: Record<string, unknown>;
}

function memoryLogger(entries: LogEntry[], bindings: Record<string, unknown> = {}): Logger {
  const write =
    (level: string) =>
    (fieldsOrMsg: object | string, msg?: string): void => {
      if (typeof fieldsOrMsg === 'string') entries.push({ level, msg: fieldsOrMsg, fields: { ...bindings } });
      else entries.push({ level, msg, fields: { ...bindings, ...fieldsOrMsg } });
    };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (more) => memoryLogger(entries, { ...bindings, ...more }),
  };
}

interface Candidate {
  readonly id: string;
  readonly election: EtcdLeaderElection;
  readonly changes: boolean[];
  readonly logs: LogEntry[];
}

describe('EtcdLeaderElection (real etcd)', () => {
  let etcd: EtcdServer | undefined;
  let candidates: Candidate[] = [];
  let children: ChildProcess[] = [];
  const leadersNow = new Set<string>();
  let mostLeadersAtOnce = 0;

  beforeAll(() => assertEtcdInstalled());

  beforeEach(async () => {
    leadersNow.clear();
    mostLeadersAtOnce = 0;
    etcd = await startEtcd();
  });

  afterEach(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(candidates.map((c) => c.election.stop()));
    await etcd?.stop();
    candidates = [];
    children = [];
    etcd = undefined;
  });

  function candidate(id: string, electionName: string, ttlSeconds: number): Candidate {
    const logs: LogEntry[] = [];
    const endpoints = [etcd!.endpoint];
    const election = new EtcdLeaderElection({ endpoints, electionName, candidateId: id, ttlSeconds, logger: memoryLogger(logs) });
    const changes: boolean[] = [];
    election.onChange((isLeader) => {
      changes.push(isLeader);
      if (isLeader) leadersNow.add(id);
      else leadersNow.delete(id);
      mostLeadersAtOnce = Math.max(mostLeadersAtOnce, leadersNow.size);
    });
    const made = { id, election, changes, logs };
    candidates.push(made);
    return made;
  }

  it('elects exactly one of two candidates, and the other takes over at once when the leader resigns', async () => {
    const ttlSeconds = 5;
    const a = candidate('a', 'test-resign', ttlSeconds);
    const b = candidate('b', 'test-resign', ttlSeconds);
    await Promise.all([a.election.start(), b.election.start()]);

    const first = await waitFor(() => [a, b].find((c) => c.election.isLeader), { timeoutMs: 10_000, what: 'a leader' });
    const second = first === a ? b : a;
    expect(second.election.isLeader).toBe(false);

    const resignedAtMs = Date.now();
    await first.election.stop();
    expect(first.election.isLeader).toBe(false);
    await waitFor(() => second.election.isLeader, { timeoutMs: ttlSeconds * 1_000, what: `${second.id} to take over` });
    const takeoverMs = Date.now() - resignedAtMs;

    expect(takeoverMs).toBeLessThan((ttlSeconds * 1_000) / 4); // resigned: no waiting for the lease to expire
    expect(first.changes).toEqual([true, false]);
    expect(second.changes).toEqual([true]);
    expect(mostLeadersAtOnce).toBe(1);
  });

  it('elects another candidate once a leader killed -9 (no resign) has its lease expire', async () => {
    const ttlSeconds = 2;
    const electionName = 'test-kill';
    const child = spawnCandidate(etcd!.endpoint, electionName, 'child', ttlSeconds);
    children.push(child.proc);
    await waitFor(() => child.lines.includes('leader true'), { timeoutMs: 15_000, what: 'the child to lead' }).catch((err: Error) => {
      throw new Error(`${err.message}; child stderr:\n${child.stderr()}`);
    });

    const local = candidate('local', electionName, ttlSeconds);
    await local.election.start();
    await waitFor(async () => (await campaignKeys(etcd!.endpoint, electionName)).length === 2, { timeoutMs: 5_000, what: 'both campaign keys' });
    expect(local.election.isLeader).toBe(false);

    const killedAtMs = Date.now();
    child.proc.kill('SIGKILL');
    await waitFor(() => local.election.isLeader, { timeoutMs: ttlSeconds * 1_000 + 4_000, what: 'the local candidate to take over' });
    const takeoverMs = Date.now() - killedAtMs;

    // Not before the dead leader's lease could have expired (renewed at most TTL/3 before the kill).
    expect(takeoverMs).toBeGreaterThanOrEqual((ttlSeconds * 1_000) / 2);
    expect(local.changes).toEqual([true]);
  });

  it('steps down within about the TTL when etcd dies under the leader, and says why', async () => {
    const ttlSeconds = 2;
    const solo = candidate('solo', 'test-etcd-dies', ttlSeconds);
    await solo.election.start();
    await waitFor(() => solo.election.isLeader, { timeoutMs: 10_000, what: 'the candidate to lead' });

    const killedAtMs = Date.now();
    await etcd!.kill();
    await waitFor(() => !solo.election.isLeader, { timeoutMs: ttlSeconds * 1_000 + 1_000, what: 'the leader to step down' });
    const stepDownMs = Date.now() - killedAtMs;

    expect(stepDownMs).toBeLessThanOrEqual(ttlSeconds * 1_000);
    expect(solo.changes).toEqual([true, false]);
    const stepDown = solo.logs.find((e) => e.level === 'error' && e.msg?.includes('stepped down'));
    expect(stepDown?.fields['err']).toBeInstanceOf(Error);
  });
});

describe('soloElection', () => {
  it('leads from start() until stop()', async () => {
    const election = soloElection();
    const changes: boolean[] = [];
    election.onChange((isLeader) => changes.push(isLeader));
    expect(election.isLeader).toBe(false);
    await election.start();
    expect(election.isLeader).toBe(true);
    await election.stop();
    await election.stop();
    expect(election.isLeader).toBe(false);
    expect(changes).toEqual([true, false]);
  });
});

async function campaignKeys(endpoint: string, electionName: string): Promise<string[]> {
  const client = new Etcd3({ hosts: [endpoint] });
  try {
    return await client.getAll().prefix(`election/${electionName}/`).keys();
  } finally {
    client.close();
  }
}

function spawnCandidate(endpoint: string, electionName: string, id: string, ttlSeconds: number) {
  const tsx = pathToFileURL(require.resolve('tsx')).href;
  const proc = spawn(process.execPath, ['--import', tsx, CHILD_SCRIPT, endpoint, electionName, id, String(ttlSeconds)], {
    cwd: WORKSPACE_ROOT,
    env: { ...process.env, TSX_TSCONFIG_PATH: path.join('apps', 'ha-replicator', 'tsconfig.json') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  let pending = '';
  proc.stdout.on('data', (chunk: Buffer) => {
    const parts = (pending + chunk.toString()).split('\n');
    pending = parts.pop() ?? '';
    lines.push(...parts);
  });
  proc.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  return { proc, lines, stderr: () => stderr };
}
