import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Producer, SimpleConsumer, type MessageView } from 'rocketmq-client-nodejs';
import { createBrokerAdminClient } from '@apogee/protocol';
import { waitFor } from '@apogee/testing';
import type { RunningBroker } from '../src/start-broker';
import { quietClientLogger, shutdownClients, startStandaloneBroker } from './standalone-broker';

// FIFO consumption with the official Node client: a FIFO topic, a FIFO group, several message
// groups. A queue with a message in flight gives nothing more until it is acked; every message
// group comes out in send order, across a broker restart on the same data directory.

const TOPIC = 'fifo-orders';
const GROUP = 'fifo-group';
const MESSAGE_GROUPS = ['g1', 'g2', 'g3', 'g4'];
const PER_GROUP = 5;
const INVISIBLE_MS = 10_000;

describe('FIFO consumption with the official Node SimpleConsumer', () => {
  let root: string;
  let broker: RunningBroker | undefined;
  let producer: Producer | undefined;
  let consumer: SimpleConsumer | undefined;

  const start = async (port = 0): Promise<RunningBroker> =>
    startStandaloneBroker(path.join(root, 'data'), { grpcPort: port, autoCreateTopics: false, autoCreateGroups: false });
  const openConsumer = async (): Promise<SimpleConsumer> => {
    const opened = new SimpleConsumer({
      consumerGroup: GROUP,
      endpoints: broker!.grpcAddress,
      namespace: '',
      subscriptions: new Map([[TOPIC, '*']]),
      awaitDuration: 500,
      sslEnabled: false,
      logger: quietClientLogger,
    });
    await opened.startup();
    return opened;
  };

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'apogee-broker-fifo-'));
    broker = await start();
    const admin = createBrokerAdminClient(broker.grpcAddress);
    try {
      await admin.call('CreateTopic', { name: TOPIC, read_queue_count: 2, write_queue_count: 2, message_type: 'FIFO' });
      await admin.call('CreateGroup', { name: GROUP, fifo: true });
    } finally {
      admin.close();
    }
    producer = new Producer({ endpoints: broker.grpcAddress, namespace: '', topics: [TOPIC], sslEnabled: false, logger: quietClientLogger });
    await producer.startup();
  }, 15_000);

  afterAll(async () => {
    await shutdownClients([consumer, producer]);
    await broker?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('holds a queue back behind its in-flight messages and keeps every message group in send order', async () => {
    const sent = new Map<string, string[]>(MESSAGE_GROUPS.map((g) => [g, []]));
    for (let i = 0; i < PER_GROUP; i++) {
      for (const messageGroup of MESSAGE_GROUPS) {
        const body = Buffer.from(`${messageGroup}-${i}`);
        await producer!.send({ topic: TOPIC, tag: 'T', body, messageGroup });
        sent.get(messageGroup)!.push(body.toString());
      }
    }
    consumer = await openConsumer();
    const received: MessageView[] = [];
    const first = await waitFor(async () => {
      const got = await consumer!.receive(3, INVISIBLE_MS);
      return got.length > 0 && got;
    }, { what: 'a first batch' });
    received.push(...first);
    // nothing more from a queue while its batch is unacked: its message groups wait
    const heldGroups = new Set(first.map((m) => m.messageGroup));
    const meanwhile = await consumer!.receive(32, INVISIBLE_MS);
    expect(meanwhile.filter((m) => heldGroups.has(m.messageGroup))).toEqual([]);
    received.push(...meanwhile);
    for (const m of [...first, ...meanwhile]) await consumer!.ack(m);

    // a restart in the middle: positions and order survive it
    const port = Number(broker!.grpcAddress.split(':')[1]);
    await consumer!.shutdown();
    await producer!.shutdown(); // every message is sent; a client kept across the restart never lets jest exit
    producer = undefined;
    await broker!.stop();
    broker = await start(port);
    consumer = await openConsumer();

    await waitFor(async () => {
      const got = await consumer!.receive(4, INVISIBLE_MS);
      for (const m of got) await consumer!.ack(m);
      received.push(...got);
      return received.length >= MESSAGE_GROUPS.length * PER_GROUP;
    }, { timeoutMs: 15_000, intervalMs: 0, what: 'every message' });

    for (const messageGroup of MESSAGE_GROUPS) {
      const order = received.filter((m) => m.messageGroup === messageGroup).map((m) => m.body.toString());
      expect(order).toEqual(sent.get(messageGroup));
    }
    expect(received.every((m) => m.deliveryAttempt === 1)).toBe(true);
  }, 30_000);
});
