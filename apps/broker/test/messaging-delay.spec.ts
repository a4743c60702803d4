import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Producer, SimpleConsumer, type MessageView } from 'rocketmq-client-nodejs';
import { createBrokerAdminClient, type AdminMessageType } from '@apogee/protocol';
import { waitFor } from '@apogee/testing';
import type { BrokerConfig } from '../src/config';
import type { RunningBroker } from '../src/start-broker';
import { decodeRecallHandle, encodeRecallHandle } from '../src/timer/recall-handle';
import { quietClientLogger, shutdownClients, startSimpleConsumer, startStandaloneBroker } from './standalone-broker';
import { createRawV2Client } from './v2-raw-client';

// Delay messages and RecallMessage with the official Node client (rocketmq-client-nodejs)
// against a broker started in-process on port 0: due-time accuracy, due order, recall, the
// horizon and bad timestamps, and timers that outlive a broker restart (timer/timer-store.ts).
const AWAIT_MS = 1_000;
const INVISIBLE_MS = 10_000;
/** How late a message may arrive after its due time: the timer's promise (1 s). */
const MAX_LATENESS_MS = 1_000;

async function newDataDir(): Promise<string> {
  return path.join(await mkdtemp(path.join(tmpdir(), 'apogee-broker-delay-')), 'data');
}

function start(dataDir: string, overrides: Partial<BrokerConfig> = {}): Promise<RunningBroker> {
  return startStandaloneBroker(dataDir, { autoCreateTopics: false, autoCreateGroups: true, ...overrides });
}

async function createTopics(broker: RunningBroker, topics: Record<string, { type: AdminMessageType; queues: number }>): Promise<void> {
  const admin = createBrokerAdminClient(broker.grpcAddress);
  try {
    for (const [name, { type, queues }] of Object.entries(topics)) {
      await admin.call('CreateTopic', { name, read_queue_count: queues, write_queue_count: queues, message_type: type });
    }
  } finally {
    admin.close();
  }
}

async function startProducer(broker: RunningBroker, topics: string[]): Promise<Producer> {
  const producer = new Producer({ endpoints: broker.grpcAddress, namespace: '', topics, sslEnabled: false, logger: quietClientLogger });
  await producer.startup();
  return producer;
}

function startConsumer(broker: RunningBroker, group: string, topic: string): Promise<SimpleConsumer> {
  return startSimpleConsumer(broker.grpcAddress, group, topic, AWAIT_MS);
}

interface Arrival {
  message: MessageView;
  atMs: number;
}

/** Receives (acking) until `done` says so, noting when each message arrived. */
async function receiveUntil(consumer: SimpleConsumer, done: (got: Arrival[]) => boolean, what: string, timeoutMs = 8_000): Promise<Arrival[]> {
  const got: Arrival[] = [];
  await waitFor(
    async () => {
      const batch = await consumer.receive(32, INVISIBLE_MS);
      const atMs = Date.now();
      for (const message of batch) {
        got.push({ message, atMs });
        await consumer.ack(message);
      }
      return done(got);
    },
    { timeoutMs, intervalMs: 0, what },
  );
  return got;
}

function receiveCount(consumer: SimpleConsumer, count: number): Promise<Arrival[]> {
  return receiveUntil(consumer, (got) => got.length >= count, `${count} delayed messages`);
}

const body = (text: string) => Buffer.from(text);

describe('delay messages with the official Node client', () => {
  let dataDir: string;
  let broker: RunningBroker | undefined;
  let producer: Producer | undefined;
  const consumers: SimpleConsumer[] = [];
  const consumer = async (group: string, topic: string) => {
    const c = await startConsumer(broker!, group, topic);
    consumers.push(c);
    return c;
  };

  beforeAll(async () => {
    dataDir = await newDataDir();
    broker = await start(dataDir);
    await createTopics(broker, {
      'dl-orders': { type: 'DELAY', queues: 2 },
      'dl-ordered': { type: 'DELAY', queues: 1 },
      'dl-recall': { type: 'DELAY', queues: 2 },
      'dl-normal': { type: 'NORMAL', queues: 1 },
    });
    producer = await startProducer(broker, ['dl-orders', 'dl-ordered', 'dl-recall', 'dl-normal']);
  }, 15_000);

  afterAll(async () => {
    await shutdownClients([...consumers, producer]);
    await broker?.stop();
    if (dataDir !== undefined) await rm(path.dirname(dataDir), { recursive: true, force: true });
  });

  it('delivers a delayed message not before its due time and within 1 s after, with its fields', async () => {
    const orders = await consumer('dl-group-orders', 'dl-orders');
    const dueMs = Date.now() + 1_500;
    const receipt = await producer!.send({
      topic: 'dl-orders',
      tag: 'created',
      keys: ['order-1'],
      body: body('order 1'),
      properties: new Map([['origin', 'test']]),
      deliveryTimestamp: new Date(dueMs),
    });
    expect(receipt.recallHandle).toMatch(/^[A-Za-z0-9_-]+$/);
    const [arrival] = await receiveCount(orders, 1);
    expect(arrival.atMs).toBeGreaterThanOrEqual(dueMs);
    expect(arrival.atMs).toBeLessThanOrEqual(dueMs + MAX_LATENESS_MS);
    expect(arrival.message).toMatchObject({ messageId: receipt.messageId, topic: 'dl-orders', tag: 'created', keys: ['order-1'] });
    expect(arrival.message.body.toString()).toBe('order 1');
    expect(Object.fromEntries(arrival.message.properties)).toEqual({ origin: 'test' }); // no timer bookkeeping
    expect(arrival.message.deliveryTimestamp?.getTime()).toBe(dueMs);
    expect(arrival.message.corrupted).toBeFalsy();
  }, 15_000);

  it('a delivery time in the past delivers at once, without a recall handle', async () => {
    const orders = await consumer('dl-group-past', 'dl-orders');
    const sentAt = Date.now();
    const receipt = await producer!.send({ topic: 'dl-orders', body: body('past'), deliveryTimestamp: new Date(sentAt - 60_000) });
    expect(receipt.recallHandle || undefined).toBeUndefined();
    const got = await receiveUntil(orders, (g) => g.some((a) => a.message.messageId === receipt.messageId), 'the message due in the past');
    expect(got.find((a) => a.message.messageId === receipt.messageId)!.atMs).toBeLessThanOrEqual(sentAt + MAX_LATENESS_MS);
  }, 15_000);

  it('many timers sent out of order come out in due order', async () => {
    const ordered = await consumer('dl-group-ordered', 'dl-ordered');
    const base = Date.now() + 1_000;
    const offsets = [700, 100, 500, 0, 900, 300, 800, 200, 600, 400, 1_000, 150];
    const idsByDue = new Map<number, string>();
    for (const offset of offsets) {
      const receipt = await producer!.send({ topic: 'dl-ordered', body: body(`at +${offset}`), deliveryTimestamp: new Date(base + offset) });
      idsByDue.set(base + offset, receipt.messageId);
    }
    const got = await receiveCount(ordered, offsets.length);
    const expected = [...idsByDue.entries()].sort(([a], [b]) => a - b).map(([, id]) => id);
    expect(got.map((a) => a.message.messageId)).toEqual(expected);
    for (const a of got) {
      const due = [...idsByDue.entries()].find(([, id]) => id === a.message.messageId)![0];
      expect(a.atMs).toBeGreaterThanOrEqual(due);
    }
  }, 15_000);

  it('recall cancels a pending message; recalling it again or a delivered one fails clearly', async () => {
    const recall = await consumer('dl-group-recall', 'dl-recall');
    const dueMs = Date.now() + 1_200;
    const cancelled = await producer!.send({ topic: 'dl-recall', body: body('cancel me'), deliveryTimestamp: new Date(dueMs) });
    const kept = await producer!.send({ topic: 'dl-recall', body: body('keep me'), deliveryTimestamp: new Date(dueMs + 100) });
    await expect(producer!.recallMessage('dl-recall', cancelled.recallHandle!)).resolves.toMatchObject({ messageId: cancelled.messageId });
    await expect(producer!.recallMessage('dl-recall', cancelled.recallHandle!)).rejects.toThrow(/already recalled.*code: 40401/);
    await expect(producer!.recallMessage('dl-orders', kept.recallHandle!)).rejects.toThrow(/topic "dl-recall", not "dl-orders".*code: 40000/);
    await expect(producer!.recallMessage('dl-recall', 'bm90LWEtaGFuZGxl')).rejects.toThrow(/malformed.*code: 40000/);
    const otherBroker = encodeRecallHandle({ ...decodeRecallHandle(kept.recallHandle!), brokerName: 'broker-z' });
    await expect(producer!.recallMessage('dl-recall', otherBroker)).rejects.toThrow(/for broker "broker-z".*code: 40000/);

    const got = await receiveCount(recall, 1);
    expect(got.map((a) => a.message.messageId)).toEqual([kept.messageId]);
    await expect(recall.receive(32, INVISIBLE_MS)).resolves.toEqual([]); // the recalled one never comes
    await expect(producer!.recallMessage('dl-recall', kept.recallHandle!)).rejects.toThrow(/already delivered.*code: 40401/);
  }, 15_000);

  it('refuses a delivery time beyond the horizon and a DELAY message without one', async () => {
    const tooLate = new Date(Date.now() + 8 * 24 * 3_600_000);
    await expect(producer!.send({ topic: 'dl-orders', body: body('too late'), deliveryTimestamp: tooLate })).rejects.toThrow(
      /at most 604800000 ms \(168 h, timerMaxDelayMs\)/,
    );
    const raw = createRawV2Client(broker!.grpcAddress);
    try {
      const send = (props: object, topic = 'dl-orders') =>
        raw.call<{ status: { code: string; message: string } }>('SendMessage', {
          messages: [{ topic: { name: topic }, body: body('x'), system_properties: { message_id: 'raw-1', ...props } }],
        });
      const missing = await send({ message_type: 'DELAY' });
      expect(missing.status).toMatchObject({ code: 'ILLEGAL_DELIVERY_TIME', message: expect.stringMatching(/without a valid delivery_timestamp/) });
      const negative = await send({ message_type: 'DELAY', delivery_timestamp: { seconds: '-5', nanos: 0 } });
      expect(negative.status.code).toBe('ILLEGAL_DELIVERY_TIME');
      const normalToDelay = await send({ message_type: 'NORMAL' });
      expect(normalToDelay.status.code).toBe('MESSAGE_PROPERTY_CONFLICT_WITH_TYPE');
      const delayToNormal = await send({ message_type: 'DELAY', delivery_timestamp: { seconds: String(Math.floor(Date.now() / 1000) + 5) } }, 'dl-normal');
      expect(delayToNormal.status.code).toBe('MESSAGE_PROPERTY_CONFLICT_WITH_TYPE');
    } finally {
      raw.close();
    }
  });
});

describe('delay messages across a broker restart', () => {
  let dataDir: string;
  let broker: RunningBroker | undefined;
  let producer: Producer | undefined;
  let consumer: SimpleConsumer | undefined;

  afterEach(async () => {
    await shutdownClients([consumer, producer]);
    await broker?.stop();
    if (dataDir !== undefined) await rm(path.dirname(dataDir), { recursive: true, force: true });
  });

  it('fires timers due during the downtime right after the start, and later ones on time', async () => {
    dataDir = await newDataDir();
    broker = await start(dataDir);
    await createTopics(broker, { 'dl-restart': { type: 'DELAY', queues: 2 } });
    producer = await startProducer(broker, ['dl-restart']);
    const downtimeDue = Date.now() + 1_000;
    const laterDue = Date.now() + 3_500;
    const duringDowntime = await producer.send({ topic: 'dl-restart', body: body('during'), deliveryTimestamp: new Date(downtimeDue) });
    const later = await producer.send({ topic: 'dl-restart', body: body('later'), delay: laterDue - Date.now() }); // the `delay` option
    const recalled = await producer.send({ topic: 'dl-restart', body: body('recalled'), deliveryTimestamp: new Date(laterDue) });
    await producer.recallMessage('dl-restart', recalled.recallHandle!);
    await producer.shutdown();
    producer = undefined;
    await broker.stop();
    broker = undefined;
    await waitFor(() => Date.now() > downtimeDue + 200, { timeoutMs: 5_000, what: 'the first due time to pass while stopped' });

    broker = await start(dataDir);
    const startedAt = Date.now();
    consumer = await startConsumer(broker, 'dl-group-restart', 'dl-restart');
    const first = await receiveCount(consumer, 1);
    expect(first.map((a) => a.message.messageId)).toEqual([duringDowntime.messageId]);
    expect(first[0].atMs).toBeLessThanOrEqual(startedAt + 2_000);
    const second = await receiveCount(consumer, 1);
    expect(second.map((a) => a.message.messageId)).toEqual([later.messageId]);
    expect(second[0].atMs).toBeGreaterThanOrEqual(laterDue);
    expect(second[0].atMs).toBeLessThanOrEqual(laterDue + MAX_LATENESS_MS);
    await expect(consumer.receive(32, INVISIBLE_MS)).resolves.toEqual([]);
  }, 20_000);
});
