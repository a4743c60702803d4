import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Producer } from 'rocketmq-client-nodejs';
import { httpGet, waitFor, type SpawnedService } from '@apogee/testing';
import { portOf, stopProcess } from './registration-fixture';
import { createTopicOn, logEndOf, metricOf, startMaster, startSlave as startSlaveProcess } from './replication-fixture';
import { quietClientLogger, shutdownClients } from './standalone-broker';

// SYNC replication (sync double write) with a master and a slave process: every send the master
// acknowledges is already in the slave's log; with the slave killed -9 a send fails at once with
// a retriable status naming the replication state (the producer makes one attempt); once the
// slave is back, sends succeed again.

jest.setTimeout(40_000);

const TOPIC = 'sync-topic';
const SYNC_TIMEOUT_MS = 1_000;

describe('SYNC replication', () => {
  let dir = '';
  let master: SpawnedService;
  let slave: SpawnedService;
  const processes: SpawnedService[] = [];
  const clients: { shutdown(): Promise<void> }[] = [];
  let producer: Producer;



  const startSlave = async (): Promise<SpawnedService> => {
    const service = await startSlaveProcess(dir, portOf(master.grpcAddress));
    processes.push(service);
    return service;
  };
  const createTopic = (address: string): Promise<void> => createTopicOn(address, TOPIC);
  const logEnd = logEndOf;
  const inSyncReplicas = (): Promise<number> => metricOf(master, 'apogee_replication_in_sync_replicas');

  const send = (i: number): Promise<unknown> => producer.send({ topic: TOPIC, tag: 't', keys: [`k${i}`], body: Buffer.from(`message ${i}`) });

  /** After each acknowledged send, the slave's log already reaches the master's end. */
  const sendConfirmed = async (count: number, from: number): Promise<void> => {
    for (let i = from; i < from + count; i++) {
      await send(i);
      const masterEnd = await logEnd(master);
      expect(await logEnd(slave)).toBeGreaterThanOrEqual(masterEnd);
    }
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'apogee-broker-replication-sync-'));
    master = await startMaster(dir, 0, ['--replication-mode', 'SYNC', '--sync-replica-timeout-ms', String(SYNC_TIMEOUT_MS)]);
    processes.push(master);
    slave = await startSlave();
    await Promise.all([createTopic(master.grpcAddress), createTopic(slave.grpcAddress)]); // topics are not replicated yet
    producer = new Producer({
      endpoints: master.grpcAddress,
      namespace: '',
      topics: [TOPIC],
      sslEnabled: false,
      logger: quietClientLogger,
      maxAttempts: 1,
    });
    await producer.startup();
    clients.push(producer);
    await waitFor(async () => (await inSyncReplicas()) === 1, { what: 'the slave in sync' });
  });

  afterAll(async () => {
    await shutdownClients(clients.reverse());
    for (const service of processes.reverse()) await stopProcess(service);
    await rm(dir, { recursive: true, force: true });
  });

  it('acknowledges a send only once the slave has stored it', async () => {
    await sendConfirmed(30, 0);
    expect(master.logs.filter((l) => l.msg === 'replica joined the in-sync set')).toHaveLength(1);
  });

  it('fails a send with a retriable status naming the replication state once the slave is killed -9', async () => {
    slave.kill();
    await slave.exited;
    const started = Date.now();
    await expect(send(1_000)).rejects.toThrow(/SYNC replication: (no in-sync slave of ha|slave ha-1 .*did not confirm)/);
    expect(Date.now() - started).toBeLessThan(SYNC_TIMEOUT_MS + 1_500);
    await waitFor(() => master.logs.some((l) => /^replica left the in-sync set/.test(String(l.msg))), { what: 'the in-sync exit logged' });
    expect(await inSyncReplicas()).toBe(0);
    const body = (await httpGet(master.metricsAddress, '/metrics')).body;
    const failures = [...body.matchAll(/^apogee_replication_sync_wait_failures_total\{reason="(?:timeout|no_in_sync_replica)"\} (\d+)$/gm)];
    expect(failures.reduce((n, m) => n + Number(m[1]), 0)).toBeGreaterThanOrEqual(1);
  });

  it('acknowledges sends again once the slave is back', async () => {
    slave = await startSlave();
    await waitFor(async () => (await inSyncReplicas()) === 1, { what: 'the restarted slave in sync' });
    await sendConfirmed(10, 2_000);
  });
});
