import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Producer, SimpleConsumer, type MessageView } from 'rocketmq-client-nodejs';
import { createBrokerAdminClient, createNameServerClient } from '@apogee/protocol';
import { spawnService, waitFor, type SpawnedService } from '@apogee/testing';
import { decodeReceiptHandle } from '../src/consumer/receipt-handle';
import { placementIn } from '../src/messaging/fifo-owner';
import { stopProcess } from './registration-fixture';
import { quietClientLogger, shutdownClients } from './standalone-broker';
import { createRawV2Client, wireMessage, type RawV2Client } from './v2-raw-client';

// A FIFO topic on two broker processes registered with one nameserver process. Producers reach
// the brokers differently: the official Node Producer is given broker A as its access point (it
// hashes each message group to "queue 0 of some broker" itself), and raw SendMessage calls name
// broker B whatever the group. Each broker routes every message group to its owner over the
// topic's whole route (forwarding to the other broker when needed), so a FIFO SimpleConsumer
// sees each group in one queue, in send order. A forward to an owner that is down fails with a
// retriable PROXY_TIMEOUT and stores nothing on the forwarding broker.

jest.setTimeout(30_000);

const TOPIC = 'tf-orders';
const DEAD_TOPIC = 'tf-dead-owner';
const GROUP = 'tf-fifo-group';
const MESSAGE_GROUPS = Array.from({ length: 12 }, (_, i) => `order-${i}`);
const VIA_PRODUCER = 3;
const VIA_RAW = 2;
const INVISIBLE_MS = 10_000;

interface SendEntry {
  status: { code: string; message: string };
  message_id: string;
  offset: string;
}

describe('FIFO order across two brokers, whichever broker a message group is sent to', () => {
  let dir = '';
  let ns: SpawnedService;
  let a: SpawnedService;
  let b: SpawnedService;
  const processes: SpawnedService[] = [];
  const clients: { shutdown(): Promise<void> }[] = [];
  const raws: RawV2Client[] = [];

  const startBroker = (name: string): Promise<SpawnedService> =>
    spawnService({
      app: 'broker',
      args: ['--nameservers', ns.grpcAddress, '--broker-name', name, '--data-dir', path.join(dir, name)],
    });
  const createOn = async (brokers: readonly SpawnedService[], topic: string): Promise<void> => {
    for (const broker of brokers) {
      const admin = createBrokerAdminClient(broker.grpcAddress);
      try {
        await admin.call('CreateTopic', { name: topic, read_queue_count: 2, write_queue_count: 2, message_type: 'FIFO' });
        await admin.call('CreateGroup', { name: GROUP, fifo: true }).catch(() => undefined); // exists after the first topic
      } finally {
        admin.close();
      }
    }
    const nsClient = createNameServerClient(ns.grpcAddress, { timeoutMs: 2_000 });
    try {
      await waitFor(async () => (await nsClient.queryRoute(topic)).brokers.length === brokers.length, { what: `${topic} on every broker` });
    } finally {
      nsClient.close();
    }
  };
  const raw = (address: string): RawV2Client => {
    const client = createRawV2Client(address, 'raw-fifo-producer@1@0@0');
    raws.push(client);
    return client;
  };
  const sendRaw = (client: RawV2Client, topic: string, id: string, group: string, body: string) =>
    client.call<{ status: { code: string }; entries: SendEntry[] }>('SendMessage', {
      messages: [wireMessage(topic, id, Buffer.from(body), { message_type: 'FIFO', message_group: group })],
    });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'apogee-broker-fifo-two-'));
    ns = await spawnService({ app: 'nameserver' });
    processes.push(ns);
    [a, b] = await Promise.all([startBroker('broker-a'), startBroker('broker-b')]);
    processes.push(a, b);
    await createOn([a, b], TOPIC);
  });

  afterAll(async () => {
    await shutdownClients(clients.reverse());
    for (const client of raws) client.close();
    for (const service of processes.reverse()) await stopProcess(service);
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps every message group in one queue and in send order, sent through broker A by the SDK and to broker B raw', async () => {
    const producer = new Producer({ endpoints: a.grpcAddress, namespace: '', topics: [TOPIC], sslEnabled: false, logger: quietClientLogger });
    clients.push(producer);
    await producer.startup();
    const sent = new Map<string, string[]>(MESSAGE_GROUPS.map((g) => [g, []]));
    const sentTo = new Set<string>();
    for (let i = 0; i < VIA_PRODUCER; i++) {
      for (const group of MESSAGE_GROUPS) {
        const body = `${group}#${i}`;
        const receipt = await producer.send({ topic: TOPIC, tag: 'T', body: Buffer.from(body), messageGroup: group });
        sentTo.add(receipt.messageQueue.broker.name);
        sent.get(group)!.push(body);
      }
    }
    expect([...sentTo].sort()).toEqual(['broker-a', 'broker-b']); // the SDK's own hash uses both brokers
    const toB = raw(b.grpcAddress);
    for (let i = VIA_PRODUCER; i < VIA_PRODUCER + VIA_RAW; i++) {
      for (const group of MESSAGE_GROUPS) {
        const body = `${group}#${i}`;
        const response = await sendRaw(toB, TOPIC, `raw-${group}-${i}`, group, body);
        expect(response.entries.map((e) => [e.message_id, e.status.code])).toEqual([[`raw-${group}-${i}`, 'OK']]);
        sent.get(group)!.push(body);
      }
    }

    const consumer = new SimpleConsumer({
      consumerGroup: GROUP,
      endpoints: a.grpcAddress,
      namespace: '',
      subscriptions: new Map([[TOPIC, '*']]),
      awaitDuration: 500,
      sslEnabled: false,
      logger: quietClientLogger,
    });
    clients.push(consumer);
    await consumer.startup();
    const received: MessageView[] = [];
    const total = MESSAGE_GROUPS.length * (VIA_PRODUCER + VIA_RAW);
    await waitFor(
      async () => {
        for (const message of await consumer.receive(32, INVISIBLE_MS)) {
          received.push(message);
          await consumer.ack(message);
        }
        return received.length >= total;
      },
      { timeoutMs: 20_000, intervalMs: 0, what: `all ${total} messages` },
    );

    const owners = new Set<string>();
    for (const group of MESSAGE_GROUPS) {
      const ofGroup = received.filter((m) => m.messageGroup === group);
      const queues = new Set(
        ofGroup.map((m) => {
          const handle = decodeReceiptHandle(m.receiptHandle);
          return `${handle.brokerName}/${handle.queueId}`;
        }),
      );
      expect({ group, queues: queues.size }).toEqual({ group, queues: 1 });
      expect(ofGroup.map((m) => m.body.toString())).toEqual(sent.get(group));
      owners.add([...queues][0].split('/')[0]);
    }
    // groups are owned by both brokers, so raw sends to B were forwarded to A (and SDK sends to A, to B)
    expect([...owners].sort()).toEqual(['broker-a', 'broker-b']);
  });

  it('answers a retriable PROXY_TIMEOUT naming the owner when the owner is down, and stores nothing on the forwarding broker', async () => {
    const c = await startBroker('broker-c');
    processes.push(c);
    await createOn([a, c], DEAD_TOPIC);
    const nsClient = createNameServerClient(ns.grpcAddress, { timeoutMs: 2_000 });
    const route = await nsClient.queryRoute(DEAD_TOPIC).finally(() => nsClient.close());
    const groupOf = (owner: string): string =>
      MESSAGE_GROUPS.find((g) => {
        const placement = placementIn(route, 'broker-a', g);
        return owner === 'broker-a' ? placement.kind === 'local' : placement.kind === 'remote' && placement.brokerName === owner;
      })!;
    const toA = raw(a.grpcAddress);
    // a group A owns is stored on A (and A has the route cached, naming broker-c)
    const ours = await sendRaw(toA, DEAD_TOPIC, 'dead-a-0', groupOf('broker-a'), 'a');
    expect(ours.entries[0].status.code).toBe('OK');

    c.kill(); // SIGKILL: still in the nameserver's route until its registration expires
    await c.exited;
    const response = await sendRaw(toA, DEAD_TOPIC, 'dead-c-0', groupOf('broker-c'), 'c');
    expect(response.entries).toHaveLength(1);
    expect(response.entries[0].status.code).toBe('PROXY_TIMEOUT');
    expect(response.entries[0].status.message).toContain('broker-c');
    expect(response.status.code).toBe('PROXY_TIMEOUT');

    const admin = createBrokerAdminClient(a.grpcAddress);
    try {
      const progress = await admin.call('GroupProgress', { group: GROUP, topic: DEAD_TOPIC });
      const stored = (progress.queues ?? []).reduce((sum, q) => sum + Number(q.max_offset), 0);
      expect(stored).toBe(1); // only the message of A's own group
    } finally {
      admin.close();
    }
  });
});
