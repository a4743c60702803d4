import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FilterExpression, Producer, SimpleConsumer, type MessageView } from 'rocketmq-client-nodejs';
import { FilterType } from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb';
import { waitFor } from '@apogee/testing';
import type { RunningBroker } from '../src/start-broker';
import { createTopic, quietClientLogger, shutdownClients, startStandaloneBroker } from './standalone-broker';
import { createRawV2Client, type RawV2Client, type ReceiveFrame } from './v2-raw-client';

// The official RocketMQ 5 Node SimpleConsumer (rocketmq-client-nodejs) against a broker started
// in-process: receive (POP with long polling), ack, changeInvisibleDuration, redelivery with
// deliveryAttempt + 1, two groups, tag filters, and a restart on the same data directory.
/** awaitDuration of the consumers: short, so empty receives end fast. */
const AWAIT_MS = 1_000;
const INVISIBLE_MS = 10_000;

async function newDataDir(): Promise<string> {
  return path.join(await mkdtemp(path.join(tmpdir(), 'apogee-broker-simple-')), 'data');
}

function startOn(dataDir: string): Promise<RunningBroker> {
  return startStandaloneBroker(dataDir, { autoCreateTopics: true, autoCreateGroups: true });
}

function producerFor(broker: RunningBroker, topics: string[]): Producer {
  return new Producer({ endpoints: broker.grpcAddress, namespace: '', topics, sslEnabled: false, logger: quietClientLogger });
}

async function consumerFor(
  broker: RunningBroker,
  group: string,
  subscriptions: Record<string, string> | Map<string, FilterExpression>,
  awaitDuration = AWAIT_MS,
) {
  const consumer = new SimpleConsumer({
    consumerGroup: group,
    endpoints: broker.grpcAddress,
    namespace: '',
    subscriptions: subscriptions instanceof Map ? subscriptions : new Map(Object.entries(subscriptions)),
    awaitDuration,
    sslEnabled: false,
    logger: quietClientLogger,
  });
  await consumer.startup();
  return consumer;
}

/** Receives until `count` messages arrived (each receive long-polls up to AWAIT_MS). */
async function receiveCount(consumer: SimpleConsumer, count: number, invisibleMs = INVISIBLE_MS, timeoutMs = 8_000): Promise<MessageView[]> {
  const got: MessageView[] = [];
  await waitFor(
    async () => {
      got.push(...(await consumer.receive(32, invisibleMs)));
      return got.length >= count;
    },
    { timeoutMs, intervalMs: 0, what: `${count} messages` },
  );
  return got;
}

async function sendAll(producer: Producer, topic: string, tags: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, tag] of tags.entries()) {
    const receipt = await producer.send({
      topic,
      tag,
      body: Buffer.from(`${topic} ${i}`),
      keys: [`key-${i}`, 'batch'],
      properties: new Map([['index', String(i)]]),
    });
    ids.push(receipt.messageId);
  }
  return ids;
}

/** A raw ReceiveMessage call, for answers the client hides (a raw client per call). */
async function rawReceive(address: string, request: object, deadlineMs = 4_000): Promise<ReceiveFrame[]> {
  const client = createRawV2Client(address, 'raw-receive@1@0@0');
  try {
    return await client.receive(request, deadlineMs);
  } finally {
    client.close();
  }
}

const duration = (ms: number) => ({ seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 });

describe('MessagingService with the official Node SimpleConsumer', () => {
  let dataDir: string;
  let broker: RunningBroker | undefined;
  let producer: Producer | undefined;
  let raw: RawV2Client | undefined;
  const consumers: SimpleConsumer[] = [];
  const open = async (group: string, subscriptions: Record<string, string>, awaitDuration?: number) => {
    const consumer = await consumerFor(broker!, group, subscriptions, awaitDuration);
    consumers.push(consumer);
    return consumer;
  };

  beforeAll(async () => {
    dataDir = await newDataDir();
    broker = await startOn(dataDir);
    producer = producerFor(broker, ['sc-orders', 'sc-tags', 'sc-sql', 'sc-redeliver']);
    await producer.startup();
    raw = createRawV2Client(broker.grpcAddress);
  }, 15_000);

  afterAll(async () => {
    raw?.close();
    await shutdownClients([...consumers, producer]);
    await broker?.stop();
    if (dataDir !== undefined) await rm(path.dirname(dataDir), { recursive: true, force: true });
  });

  it('delivers every message once per group with its fields, and acked messages stay acked', async () => {
    const ids = await sendAll(producer!, 'sc-orders', ['created', 'created', 'paid', 'created', 'paid']);
    const first = await open('sc-group-a', { 'sc-orders': '*' });
    const got = await receiveCount(first, ids.length);
    expect(got.map((m) => m.messageId).sort()).toEqual([...ids].sort());
    const byIndex = new Map(got.map((m) => [m.properties.get('index'), m]));
    const m2 = byIndex.get('2')!;
    expect(m2).toMatchObject({ topic: 'sc-orders', tag: 'paid', keys: ['key-2', 'batch'], deliveryAttempt: 1 });
    expect(m2.corrupted).toBeFalsy(); // the client checked our MD5 body digest
    expect(m2.body.toString()).toBe('sc-orders 2');
    expect(m2.bornTimestamp?.getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(m2.bornHost).not.toBe('');
    expect(m2.receiptHandle).not.toBe('');
    for (const message of got) await first.ack(message);
    await expect(first.receive(32, INVISIBLE_MS)).resolves.toEqual([]);

    const second = await open('sc-group-b', { 'sc-orders': '*' });
    const again = await receiveCount(second, ids.length);
    expect(again.map((m) => m.messageId).sort()).toEqual([...ids].sort());
    for (const message of again) await second.ack(message);
  }, 20_000);

  it('splits the messages of one group between its consumers (clustering)', async () => {
    const ids = await sendAll(producer!, 'sc-orders', ['s', 's', 's', 's', 's', 's']);
    const one = await open('sc-group-split', { 'sc-orders': '*' });
    const two = await open('sc-group-split', { 'sc-orders': '*' });
    // a new group on a young topic reads it from the start: 5 earlier messages + these 6
    const [a, b] = await Promise.all([one.receive(3, INVISIBLE_MS), two.receive(32, INVISIBLE_MS)]);
    const rest = await receiveCount(one, 11 - a.length - b.length);
    const all = [...a, ...b, ...rest].map((m) => m.messageId);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toEqual(expect.arrayContaining(ids));
    expect(all).toHaveLength(11);
    for (const message of [...a, ...rest]) await one.ack(message);
    for (const message of b) await two.ack(message);
  }, 15_000);

  it('filters by tag: A||B gets only those tags', async () => {
    const ids = await sendAll(producer!, 'sc-tags', ['A', 'C', 'B', 'C', 'A']);
    const consumer = await open('sc-group-tags', { 'sc-tags': 'A||B' });
    const got = await receiveCount(consumer, 3);
    expect(got.map((m) => m.tag).sort()).toEqual(['A', 'A', 'B']);
    expect(got.map((m) => m.messageId).sort()).toEqual([ids[0], ids[2], ids[4]].sort());
    for (const message of got) await consumer.ack(message);
    await expect(consumer.receive(32, INVISIBLE_MS)).resolves.toEqual([]);
  }, 15_000);

  it('filters by SQL92 over user properties and TAGS', async () => {
    const ids = await sendAll(producer!, 'sc-sql', ['A', 'B', 'A', 'A', 'B']); // property index = 0..4
    const sql = new FilterExpression("index BETWEEN 1 AND 3 AND (TAGS = 'A' OR index = 1)", FilterType.SQL);
    const consumer = await consumerFor(broker!, 'sc-group-sql', new Map([['sc-sql', sql]]));
    consumers.push(consumer);
    const got = await receiveCount(consumer, 3);
    expect(got.map((m) => m.messageId).sort()).toEqual([ids[1], ids[2], ids[3]].sort());
    for (const message of got) await consumer.ack(message);
    await expect(consumer.receive(32, INVISIBLE_MS)).resolves.toEqual([]);
  }, 15_000);

  it('redelivers an unacked message after its invisible duration with deliveryAttempt + 1', async () => {
    const [id] = await sendAll(producer!, 'sc-redeliver', ['r']);
    const consumer = await open('sc-group-r', { 'sc-redeliver': '*' });
    const [first] = await receiveCount(consumer, 1);
    expect(first).toMatchObject({ messageId: id, deliveryAttempt: 1 });
    const oldHandle = first.receiptHandle;
    await consumer.changeInvisibleDuration(first, 300); // the client swaps in the new handle
    expect(first.receiptHandle).not.toBe(oldHandle);
    const stale = await raw!.call<{ status: { code: string } }>('AckMessage', {
      group: { name: 'sc-group-r' },
      topic: { name: 'sc-redeliver' },
      entries: [{ message_id: id, receipt_handle: oldHandle }],
    });
    expect(stale.status.code).toBe('INVALID_RECEIPT_HANDLE');
    const [second] = await receiveCount(consumer, 1);
    expect(second).toMatchObject({ messageId: id, deliveryAttempt: 2 });
    await expect(consumer.ack(first)).rejects.toThrow(); // superseded by the redelivery
    await consumer.ack(second);
    await expect(consumer.receive(32, INVISIBLE_MS)).resolves.toEqual([]);
  }, 15_000);

  it('long-polls: a waiting receive returns as soon as a message arrives', async () => {
    await createTopic(broker!.grpcAddress, 'sc-longpoll', 4);
    const consumer = await open('sc-group-lp', { 'sc-longpoll': '*' }, 8_000);
    const lateProducer = producerFor(broker!, ['sc-longpoll']);
    await lateProducer.startup();
    try {
      const started = Date.now();
      const receiving = consumer.receive(8, INVISIBLE_MS);
      const sending = new Promise<string[]>((resolve, reject) => {
        setTimeout(() => sendAll(lateProducer, 'sc-longpoll', ['x']).then(resolve, reject), 300);
      });
      const [got, ids] = await Promise.all([receiving, sending]);
      expect(got.map((m) => m.messageId)).toEqual(ids);
      expect(Date.now() - started).toBeLessThan(4_000);
      await consumer.ack(got[0]);
    } finally {
      await lateProducer.shutdown();
    }
  }, 15_000);

  it('one receive takes from several queues, never more than its batch, and a filtered queue leaves room for the next', async () => {
    await createTopic(broker!.grpcAddress, 'sc-spread', 4);
    // The broker picks queues round-robin: every one of the 4 queues holds [X, A].
    const ids = await sendAll(producer!, 'sc-spread', ['X', 'X', 'X', 'X', 'A', 'A', 'A', 'A']);
    const receive = async (group: string, expression: string, batch: number) => {
      const frames = await rawReceive(broker!.grpcAddress, {
        group: { name: group },
        message_queue: { topic: { name: 'sc-spread' }, id: 0, broker: { name: 'broker-a' } },
        filter_expression: { type: 'TAG', expression },
        batch_size: batch,
        invisible_duration: duration(INVISIBLE_MS),
        auto_renew: false,
        long_polling_timeout: duration(200),
      });
      return frames.filter((f) => f.message !== undefined).map((f) => f.message!.system_properties!.message_id as string);
    };
    const three = await receive('sc-group-spread-all', '*', 3);
    expect(three).toHaveLength(3);
    expect(await receive('sc-group-spread-all', '*', 32)).toHaveLength(5);
    // A share of 2 goes to the first queue, which has one A; the second A comes from the next queue.
    const tagged = await receive('sc-group-spread-a', 'A', 2);
    expect(tagged).toHaveLength(2);
    expect(ids.slice(4)).toEqual(expect.arrayContaining(tagged));
  }, 15_000);

  it('answers bad requests in-band with the right code', async () => {
    const address = broker!.grpcAddress;
    const base = {
      group: { name: 'sc-group-raw' },
      message_queue: { topic: { name: 'sc-orders' }, id: 0, broker: { name: 'broker-a' } },
      filter_expression: { type: 'TAG', expression: '*' },
      batch_size: 4,
      invisible_duration: duration(INVISIBLE_MS),
      auto_renew: false,
      long_polling_timeout: duration(200),
    };
    const statusOf = (frames: ReceiveFrame[]) => {
      expect(frames.filter((f) => f.status !== undefined)).toHaveLength(1);
      expect(frames.at(-1)?.delivery_timestamp).toBeDefined();
      return frames.find((f) => f.status !== undefined)!.status!;
    };
    expect(statusOf(await rawReceive(address, { ...base, filter_expression: { type: 'SQL', expression: 'a > > 1' } }))).toMatchObject({
      code: 'ILLEGAL_FILTER_EXPRESSION',
      message: expect.stringContaining('column 5'),
    });
    expect(statusOf(await rawReceive(address, { ...base, invisible_duration: duration(5_000) })).code).toBe('ILLEGAL_INVISIBLE_TIME');
    expect(statusOf(await rawReceive(address, { ...base, message_queue: { topic: { name: 'sc-nope' } } })).code).toBe('TOPIC_NOT_FOUND');
    expect(statusOf(await rawReceive(address, { ...base, filter_expression: { type: 'TAG', expression: 'a||' } })).code).toBe(
      'ILLEGAL_FILTER_EXPRESSION',
    );
    // sc-group-tags has acked everything of sc-tags it matches (the C messages are skipped)
    const caughtUp = { group: { name: 'sc-group-tags' }, message_queue: { topic: { name: 'sc-tags' } } };
    expect(statusOf(await rawReceive(address, { ...base, ...caughtUp })).code).toBe('MESSAGE_NOT_FOUND');
    const ack = await raw!.call<{ status: { code: string }; entries: { status: { code: string } }[] }>('AckMessage', {
      group: { name: 'sc-group-a' },
      topic: { name: 'sc-orders' },
      entries: [{ message_id: 'x', receipt_handle: 'not-a-handle' }],
    });
    expect(ack.status.code).toBe('INVALID_RECEIPT_HANDLE');
    expect(ack.entries[0].status.code).toBe('INVALID_RECEIPT_HANDLE');
    const change = await raw!.call<{ status: { code: string }; receipt_handle: string }>('ChangeInvisibleDuration', {
      group: { name: 'sc-group-a' },
      topic: { name: 'sc-orders' },
      receipt_handle: 'not-a-handle',
      invisible_duration: duration(1_000),
      message_id: 'x',
    });
    expect(change).toMatchObject({ status: { code: 'INVALID_RECEIPT_HANDLE' }, receipt_handle: 'not-a-handle' });
  }, 15_000);
});

describe('SimpleConsumer across a broker restart on the same data directory', () => {
  let dataDir: string;
  let broker: RunningBroker | undefined;
  const clients: { shutdown(): Promise<void> }[] = [];

  beforeAll(async () => {
    dataDir = await newDataDir();
  });

  afterAll(async () => {
    await shutdownClients(clients);
    await broker?.stop();
    if (dataDir !== undefined) await rm(path.dirname(dataDir), { recursive: true, force: true });
  });

  it('does not redeliver acked messages and brings unacked ones back', async () => {
    broker = await startOn(dataDir);
    const producer = producerFor(broker, ['sc-restart']);
    await producer.startup();
    clients.push(producer);
    const ids = await sendAll(producer, 'sc-restart', ['t', 't', 't', 't']);
    const consumer = await consumerFor(broker, 'sc-group-restart', { 'sc-restart': '*' });
    clients.push(consumer);
    const got = await receiveCount(consumer, ids.length);
    const [acked, unacked] = [got.slice(0, 2), got.slice(2)];
    for (const message of acked) await consumer.ack(message);
    for (const message of unacked) await consumer.changeInvisibleDuration(message, 1_500);
    await consumer.shutdown();
    await producer.shutdown();
    clients.length = 0;
    await broker.stop();

    broker = await startOn(dataDir);
    const after = await consumerFor(broker, 'sc-group-restart', { 'sc-restart': '*' });
    clients.push(after);
    const back = await receiveCount(after, unacked.length);
    expect(back.map((m) => m.messageId).sort()).toEqual(unacked.map((m) => m.messageId).sort());
    expect(back.map((m) => m.deliveryAttempt)).toEqual([2, 2]);
    for (const message of back) await after.ack(message);
    await expect(after.receive(32, INVISIBLE_MS)).resolves.toEqual([]);
  }, 25_000);
});
