import { ApogeeError } from '@apogee/protocol';
import { createLogger } from '@apogee/runtime';
import { ReplicaSet, type InSyncOptions } from './replica-set';

// The master's replica set as SYNC replication uses it: waits released by fake progress reports,
// timing out, failing at once with no in-sync replica, the in-sync set's lag bound, and degrading.

const MiB = 1024 * 1024;

describe('ReplicaSet SYNC waits', () => {
  let masterEnd = 0;
  const make = (options: Partial<InSyncOptions> = {}): ReplicaSet =>
    new ReplicaSet(
      () => masterEnd,
      () => Date.now(),
      { brokerName: 'broker-a', inSyncMaxLagBytes: MiB, degradeToAsync: false, ...options },
    );
  const codeOf = async (p: Promise<void>): Promise<string> =>
    p.then(
      () => 'resolved',
      (err: unknown) => (err instanceof ApogeeError ? err.code : String(err)),
    );

  beforeEach(() => {
    jest.useFakeTimers();
    masterEnd = 0;
  });
  afterEach(() => jest.useRealTimers());

  it('resolves each wait on the first report reaching its end, in order, and at once when already reported', async () => {
    const set = make();
    const slave = set.connect(1, '10.0.0.2:8081', 0);
    masterEnd = 300;
    const settled: number[] = [];
    const waits = [100, 200, 300].map((end) => set.waitReplicated(end, { synced: false }, 2_000).then(() => settled.push(end)));
    set.report(slave, 150, 0);
    await Promise.resolve();
    expect(settled).toEqual([100]);
    set.report(slave, 300, 0);
    await Promise.all(waits);
    expect(settled).toEqual([100, 200, 300]);
    await expect(set.waitReplicated(250, { synced: false }, 2_000)).resolves.toBeUndefined();
  });

  it('waits for the synced end when asked (flushMode SYNC), for any in-sync replica', async () => {
    const set = make();
    const a = set.connect(1, '', 0);
    const b = set.connect(2, '', 0);
    masterEnd = 100;
    let done = false;
    const wait = set.waitReplicated(100, { synced: true }, 2_000).then(() => (done = true));
    set.report(a, 100, 50);
    await Promise.resolve();
    expect(done).toBe(false);
    set.report(b, 100, 100);
    await wait;
    expect(done).toBe(true);
  });

  it('times out with a retriable REPLICA_CONFIRM_TIMEOUT naming the slave, with one timer for all waits', async () => {
    const set = make();
    set.connect(1, '10.0.0.2:8081', 0);
    masterEnd = 100;
    const first = set.waitReplicated(50, { synced: false }, 1_000).catch((e: unknown) => e);
    jest.advanceTimersByTime(500);
    const second = set.waitReplicated(100, { synced: false }, 1_000).catch((e: unknown) => e);
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(500);
    const err = (await first) as ApogeeError;
    expect(err.code).toBe('REPLICA_CONFIRM_TIMEOUT');
    expect(err.retriable).toBe(true);
    expect(err.message).toMatch(/slave broker-a-1 \(10\.0\.0\.2:8081\) of broker-a did not confirm .* within 1000 ms/);
    expect(jest.getTimerCount()).toBe(1); // re-armed for the second wait
    jest.advanceTimersByTime(500);
    expect(((await second) as ApogeeError).code).toBe('REPLICA_CONFIRM_TIMEOUT');
    expect(set.syncWaits).toMatchObject({ timeout: 2, noInSyncReplica: 0 });
    expect(jest.getTimerCount()).toBe(0);
  });

  it('fails at once with no in-sync replica, and fails pending waits when the last one disconnects', async () => {
    const set = make();
    masterEnd = 100;
    const none = set.waitReplicated(100, { synced: false }, 2_000);
    await expect(none).rejects.toThrow(/no in-sync slave of broker-a .*no slave is connected/);
    expect(await codeOf(none)).toBe('NO_IN_SYNC_REPLICA');
    const slave = set.connect(1, '', 100);
    const pending = set.waitReplicated(150, { synced: false }, 2_000);
    set.remove(slave);
    expect(await codeOf(pending)).toBe('NO_IN_SYNC_REPLICA');
    expect(set.syncWaits.noInSyncReplica).toBe(2);
  });

  it('drops a replica further behind than inSyncMaxLagBytes from the in-sync set, and takes it back once it catches up', async () => {
    const messages: string[] = [];
    const logger = createLogger({ app: 'broker', level: 'info', destination: { write: (line: string) => messages.push(JSON.parse(line).msg) } });
    const set = make({ logger });
    const slave = set.connect(1, '', 0);
    expect(set.inSyncReplicas()).toEqual([1]);
    masterEnd = 2 * MiB; // the master wrote on; the slave did not report
    const wait = set.waitReplicated(2 * MiB, { synced: false }, 2_000);
    expect(await codeOf(wait)).toBe('NO_IN_SYNC_REPLICA');
    await expect(wait).rejects.toThrow(/broker-a-1 is 2097152 bytes behind; the bound is 1048576 bytes/);
    set.report(slave, 2 * MiB - 10, 0);
    expect(set.inSyncReplicas()).toEqual([1]);
    expect(messages.filter((m) => /in-sync set/.test(m))).toEqual([
      'replica joined the in-sync set',
      'replica left the in-sync set: it fell behind by more than inSyncMaxLagBytes',
      'replica joined the in-sync set',
    ]);
  });

  it('degrades to ASYNC when asked: resolves and counts, warning once per degradation', async () => {
    const messages: string[] = [];
    const logger = createLogger({ app: 'broker', level: 'info', destination: { write: (line: string) => messages.push(JSON.parse(line).msg) } });
    const set = make({ degradeToAsync: true, logger });
    masterEnd = 100;
    await set.waitReplicated(100, { synced: false }, 2_000);
    await set.waitReplicated(100, { synced: false }, 2_000);
    const slave = set.connect(1, '', 100);
    masterEnd = 200;
    const pending = set.waitReplicated(200, { synced: false }, 2_000);
    set.remove(slave);
    await pending;
    expect(set.syncWaits).toMatchObject({ degraded: 3, noInSyncReplica: 0, timeout: 0 });
    expect(messages.filter((m) => /SYNC replication/.test(m))).toEqual([
      'SYNC replication degraded to ASYNC: no in-sync slave',
      'SYNC replication restored: a slave is in sync again',
      'SYNC replication degraded to ASYNC: no in-sync slave',
    ]);
  });
});
