import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Producer } from 'rocketmq-client-nodejs';
import { createBrokerDispatchClient } from '@apogee/protocol';
import { httpGet, waitFor, type SpawnedService } from '@apogee/testing';
import { portOf, stopProcess } from './registration-fixture';
import { createTopicOn, logEndOf, startMaster as startMasterProcess, startSlave as startSlaveProcess } from './replication-fixture';
import { quietClientLogger, shutdownClients } from './standalone-broker';

// A master and a slave process of one broker group (ASYNC replication): the slave's commit-log
// files end up byte-identical to the master's and its consume queues hold the same entries, also
// after the slave is killed -9 mid-stream and after the master restarts. Sends to the slave are
// refused, naming the master.

jest.setTimeout(60_000);

const TOPIC = 'ha-topic';

describe('master-slave replication', () => {
  let dir = '';
  let master: SpawnedService;
  let slave: SpawnedService;
  let masterPort = 0;
  const processes: SpawnedService[] = [];
  const clients: { shutdown(): Promise<void> }[] = [];
  let producer: Producer;

  const startMaster = async (port = 0): Promise<SpawnedService> => {
    const service = await startMasterProcess(dir, port);
    processes.push(service);
    return service;
  };
  const startSlave = async (): Promise<SpawnedService> => {
    const service = await startSlaveProcess(dir, masterPort);
    processes.push(service);
    return service;
  };
  const createTopic = (address: string): Promise<void> => createTopicOn(address, TOPIC);
  const logEnd = logEndOf;




  const send = async (count: number, from: number): Promise<void> => {
    for (let i = 0; i < count; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, count - i) }, (_, j) =>
          producer.send({ topic: TOPIC, tag: 't', keys: [`k${from + i + j}`], body: Buffer.from(`message ${from + i + j}`) }),
        ),
      );
    }
  };

  const caughtUp = async (): Promise<number> => {
    const end = await logEnd(master);
    await waitFor(async () => (await logEnd(slave)) === end, { what: `the slave at the master's end ${end}`, timeoutMs: 20_000 });
    return end;
  };

  const commitLogFiles = async (broker: 'master' | 'slave'): Promise<Map<string, Buffer>> => {
    const logDir = path.join(dir, broker, 'store', 'commitlog');
    const names = (await readdir(logDir)).filter((name) => !name.endsWith('.tmp')).sort();
    return new Map(await Promise.all(names.map(async (name) => [name, await readFile(path.join(logDir, name))] as const)));
  };

  const expectIdenticalLogs = async (): Promise<void> => {
    const [m, s] = await Promise.all([commitLogFiles('master'), commitLogFiles('slave')]);
    expect([...s.keys()]).toEqual([...m.keys()]);
    for (const [name, bytes] of m) expect(s.get(name)?.equals(bytes)).toBe(true);
  };

  /** Every entry of the topic's consume queues, as MessagesByTime of the broker shows them. */
  const queueEntries = async (service: SpawnedService): Promise<string[]> => {
    const client = createBrokerDispatchClient(service.grpcAddress);
    try {
      const entries: string[] = [];
      let cursor = '';
      do {
        const page = await client.messagesByTime({ topic: TOPIC, from_ms: 0, limit: 1000, cursor });
        for (const m of page.messages ?? []) entries.push(`${m.queue_id}/${m.queue_offset}@${m.physical_offset} ${m.message_id}`);
        cursor = page.next_cursor ?? '';
      } while (cursor !== '');
      return entries;
    } finally {
      client.close();
    }
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'apogee-broker-replication-'));
    master = await startMaster();
    masterPort = portOf(master.grpcAddress);
    slave = await startSlave();
    await Promise.all([createTopic(master.grpcAddress), createTopic(slave.grpcAddress)]); // topics are not replicated yet
    producer = new Producer({ endpoints: master.grpcAddress, namespace: '', topics: [TOPIC], sslEnabled: false, logger: quietClientLogger });
    await producer.startup();
    clients.push(producer);
  });

  afterAll(async () => {
    await shutdownClients(clients.reverse());
    for (const service of processes.reverse()) await stopProcess(service);
    await rm(dir, { recursive: true, force: true });
  });

  it('copies 2,000 messages byte for byte, with the same consume-queue entries', async () => {
    await send(2_000, 0);
    await caughtUp();
    await expectIdenticalLogs();
    const entries = await queueEntries(master);
    expect(entries).toHaveLength(2_000);
    expect(await queueEntries(slave)).toEqual(entries);
    expect(slave.logs.filter((l) => l.msg === 'connected to master')).toHaveLength(1);
    expect(master.logs.filter((l) => l.msg === 'replica connected')).toHaveLength(1);
    const metrics = (await httpGet(master.metricsAddress, '/metrics')).body;
    expect(metrics).toMatch(/^apogee_replication_lag_bytes\{replica="1"\} \d+$/m);
    expect(metrics).toMatch(/^apogee_replication_lag_seconds\{replica="1"\} [\d.]+$/m);
    expect((await httpGet(slave.metricsAddress, '/metrics')).body).toMatch(/^apogee_replication_master_lag_bytes 0$/m);
  });

  it('refuses a send to the slave, naming the master', async () => {
    const toSlave = new Producer({
      endpoints: slave.grpcAddress,
      namespace: '',
      topics: [TOPIC],
      sslEnabled: false,
      logger: quietClientLogger,
      maxAttempts: 1,
    });
    await toSlave.startup();
    clients.push(toSlave);
    const sent = toSlave.send({ topic: TOPIC, tag: 't', body: Buffer.from('to the slave') });
    await expect(sent).rejects.toThrow(/slave of broker group "ha".*master at 127\.0\.0\.1:\d+/);
  });

  it('catches up after the slave is killed -9 mid-stream and restarted', async () => {
    const before = await logEnd(slave);
    const sending = send(1_000, 2_000);
    await waitFor(async () => (await logEnd(slave)) > before, { what: 'the slave applying new chunks' });
    slave.kill();
    await slave.exited;
    await sending;
    slave = await startSlave();
    await caughtUp();
    await expectIdenticalLogs();
    expect(await queueEntries(slave)).toEqual(await queueEntries(master));
  });

  it('reconnects to a restarted master and catches up', async () => {
    await master.stop('SIGTERM');
    await waitFor(() => slave.logs.some((l) => l.msg === 'disconnected from master'), { what: 'the slave saw the master go' });
    master = await startMaster(masterPort);
    await shutdownClients([clients.shift()]);
    producer = new Producer({ endpoints: master.grpcAddress, namespace: '', topics: [TOPIC], sslEnabled: false, logger: quietClientLogger });
    await producer.startup();
    clients.unshift(producer);
    await send(200, 3_000);
    await caughtUp();
    await expectIdenticalLogs();
    expect(await queueEntries(slave)).toEqual(await queueEntries(master));
    expect(await queueEntries(slave)).toHaveLength(3_200);
  });
});
