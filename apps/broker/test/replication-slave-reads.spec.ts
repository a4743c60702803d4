import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Producer, type SimpleConsumer } from 'rocketmq-client-nodejs';
import { createNameServerClient } from '@apogee/protocol';
import { spawnService, waitFor, type SpawnedService } from '@apogee/testing';
import { portOf } from './registration-fixture';
import { committedOffsets, createTopicOn, startMaster, startSlave } from './replication-fixture';
import { quietClientLogger, shutdownClients, startSimpleConsumer, tolerateBrokerDeath } from './standalone-broker';

// Reads during an outage, with static roles (nothing promotes the slave): a consumer group acks
// part of a topic on the master; the master is killed -9; once the nameserver routes reads to the
// slave, the same group receives the rest from the slave (nothing acked before is delivered
// again: the slave copied the group's positions); the master comes back and takes the positions
// the slave moved, so the group receives nothing again from it.

jest.setTimeout(60_000);

const TOPIC = 'outage-topic';
const GROUP = 'outage-group';
const TOTAL = 40;

/** Receives and acks until `count` keys arrived or a receive comes back empty; returns the keys. */
async function receive(consumer: SimpleConsumer, count: number): Promise<string[]> {
  const keys: string[] = [];
  while (keys.length < count) {
    const messages = await consumer.receive(16, 30_000);
    if (messages.length === 0) break;
    for (const m of messages) {
      keys.push(...m.keys);
      await consumer.ack(m);
    }
  }
  return keys;
}

const committedOn = (service: SpawnedService): Promise<number> => committedOffsets(service.grpcAddress, GROUP, TOPIC);

describe('reads from a slave while its master is down', () => {
  let dir = '';
  let nameserver: SpawnedService;
  let master: SpawnedService;
  let slave: SpawnedService;
  const processes: SpawnedService[] = [];
  const clients: Array<{ shutdown(): Promise<void> }> = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'apogee-slave-reads-'));
    nameserver = await spawnService({ app: 'nameserver', args: ['--eviction-window-ms', '3000', '--eviction-check-interval-ms', '250'] });
    master = await startMaster(dir, 0, ['--auto-create-groups', 'true'], nameserver.grpcAddress);
    slave = await startSlave(dir, portOf(master.grpcAddress), nameserver.grpcAddress);
    processes.push(nameserver, master, slave);
    await createTopicOn(master.grpcAddress, TOPIC);
  });

  afterAll(async () => {
    await shutdownClients(clients.reverse());
    for (const p of processes) p.kill();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the rest from the slave, and the master takes the positions back', async () => {
    const producer = tolerateBrokerDeath(
      new Producer({ endpoints: master.grpcAddress, namespace: '', topics: [TOPIC], sslEnabled: false, logger: quietClientLogger }),
    );
    await producer.startup();
    clients.push(producer);
    for (let i = 0; i < TOTAL; i++) await producer.send({ topic: TOPIC, tag: 't', keys: [`k${i}`], body: Buffer.from(`m${i}`) });
    const onMaster = tolerateBrokerDeath(await startSimpleConsumer(master.grpcAddress, GROUP, TOPIC, 1_000));
    clients.push(onMaster);
    const first = await receive(onMaster, TOTAL / 2);
    const committed = await committedOn(master);
    await waitFor(async () => (await committedOn(slave)) >= committed, { what: 'positions copied to the slave', timeoutMs: 10_000 });

    master.kill();
    await master.exited;
    const ns = createNameServerClient(nameserver.grpcAddress);
    try {
      await waitFor(async () => (await ns.queryRoute(TOPIC)).brokers.every((b) => b.brokerId === 1), {
        what: 'reads routed to the slave',
        timeoutMs: 15_000,
      });
    } finally {
      ns.close();
    }
    const onSlave = await startSimpleConsumer(slave.grpcAddress, GROUP, TOPIC, 1_000);
    clients.push(onSlave);
    const rest = await receive(onSlave, TOTAL - first.length);
    expect(rest.filter((key) => first.includes(key))).toEqual([]);
    expect(new Set([...first, ...rest]).size).toBe(TOTAL);
    const slaveCommitted = await committedOn(slave);
    expect(slaveCommitted).toBeGreaterThan(committed);

    master = await startMaster(dir, portOf(master.grpcAddress), ['--auto-create-groups', 'true'], nameserver.grpcAddress);
    processes.push(master);
    await waitFor(async () => (await committedOn(master)) >= slaveCommitted, { what: 'the master taking the slave positions', timeoutMs: 15_000 });
    const again = await startSimpleConsumer(master.grpcAddress, GROUP, TOPIC, 1_000);
    clients.push(again);
    expect(await again.receive(16, 30_000)).toEqual([]);
  });
});
