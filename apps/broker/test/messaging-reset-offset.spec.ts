import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConsumeResult, Producer, PushConsumer, SimpleConsumer, type MessageView } from 'rocketmq-client-nodejs';
import { createBrokerAdminClient, type AdminResetOffsetRequest, type BrokerAdminClient } from '@apogee/protocol';
import { waitFor } from '@apogee/testing';
import type { RunningBroker } from '../src/start-broker';
import { quietClientLogger, shutdownClients, startSimpleConsumer, startStandaloneBroker } from './standalone-broker';

// Backtracking (BrokerAdmin.ResetOffset) seen by the official Node SimpleConsumer: after a reset
// to a time, to the earliest or to the latest offset, the group receives exactly the messages
// from there on, acked ones included; handles of messages in flight turn stale; the reset
// survives a broker restart; a PushConsumer picks a reset up at its next poll.

// The PushConsumer's consume service opens its own file logger otherwise, which keeps jest from exiting.
jest.mock('rocketmq-client-nodejs/dist/client/Logger', () => ({
  getDefaultLogger: () => ({ info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined }),
}));

const TOPIC = 'rs-orders';
const GROUP = 'rs-group';
const PUSH_GROUP = 'rs-push';
/** awaitDuration of the consumer: short, so empty receives end fast. */
const AWAIT_MS = 1_000;
const INVISIBLE_MS = 10_000;

describe('ResetOffset with the official Node SimpleConsumer and PushConsumer', () => {
  let dataDir: string;
  let broker: RunningBroker | undefined;
  let producer: Producer | undefined;
  let admin: BrokerAdminClient | undefined;
  let consumer: SimpleConsumer | undefined;

  const start = async (): Promise<void> => {
    broker = await startStandaloneBroker(dataDir, { pushLongPollingTimeoutMs: 2_000 }); // a push consumer re-polls within 2 s
    admin = createBrokerAdminClient(broker.grpcAddress);
    producer = new Producer({ endpoints: broker.grpcAddress, namespace: '', topics: [TOPIC], sslEnabled: false, logger: quietClientLogger });
    await producer.startup();
    consumer = await startSimpleConsumer(broker.grpcAddress, GROUP, TOPIC, AWAIT_MS);
  };

  const stop = async (): Promise<void> => {
    await shutdownClients([consumer, producer]);
    admin?.close();
    await broker?.stop();
    consumer = producer = admin = broker = undefined;
  };

  const send = async (count: number, label: string): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push((await producer!.send({ topic: TOPIC, tag: 'T', body: Buffer.from(`${label} ${i}`) })).messageId);
    return ids;
  };

  /** Receives until `count` messages arrived, then checks that no more come. */
  const receiveExactly = async (count: number): Promise<MessageView[]> => {
    const got: MessageView[] = [];
    await waitFor(
      async () => {
        got.push(...(await consumer!.receive(32, INVISIBLE_MS)));
        return got.length >= count;
      },
      { timeoutMs: 8_000, intervalMs: 0, what: `${count} messages` },
    );
    await expect(consumer!.receive(32, INVISIBLE_MS)).resolves.toEqual([]);
    return got;
  };

  const ackAll = async (messages: readonly MessageView[]): Promise<void> => {
    for (const message of messages) await consumer!.ack(message);
  };

  const reset = (to: Omit<AdminResetOffsetRequest, 'group' | 'topic'>, group = GROUP) =>
    admin!.call('ResetOffset', { group, topic: TOPIC, ...to });

  const idsOf = (messages: readonly MessageView[]): string[] => messages.map((m) => m.messageId).sort();

  let first: string[] = [];
  let second: string[] = [];
  let between = 0;

  beforeAll(async () => {
    dataDir = path.join(await mkdtemp(path.join(tmpdir(), 'apogee-broker-reset-')), 'data');
    broker = await startStandaloneBroker(dataDir);
    const setup = createBrokerAdminClient(broker.grpcAddress);
    try {
      await setup.call('CreateTopic', { name: TOPIC, read_queue_count: 2, write_queue_count: 2 });
      await setup.call('CreateGroup', { name: GROUP });
      await setup.call('CreateGroup', { name: PUSH_GROUP });
    } finally {
      setup.close();
    }
    await broker.stop();
    await start();
  }, 15_000);

  afterAll(async () => {
    await stop();
    if (dataDir !== undefined) await rm(path.dirname(dataDir), { recursive: true, force: true });
  });

  it('consumes and acks two batches, stored on both sides of a point in time', async () => {
    first = await send(3, 'first');
    between = Date.now() + 1; // every first-batch message was stored before this ms
    await waitFor(() => Date.now() > between, { timeoutMs: 1_000, intervalMs: 1, what: 'the clock to pass the cut' });
    second = await send(3, 'second');
    const got = await receiveExactly(6);
    expect(idsOf(got)).toEqual([...first, ...second].sort());
    await ackAll(got);
  }, 15_000);

  it('resets to a timestamp: the acked messages stored from then on come again', async () => {
    const answer = await reset({ timestamp_ms: between });
    expect(answer.future_timestamp).toBe(false);
    expect(answer.queues?.map((q) => q.queue_id)).toEqual([0, 1]);
    const newOffsets = answer.queues!.reduce((sum, q) => sum + Number(q.new_offset), 0);
    const oldOffsets = answer.queues!.reduce((sum, q) => sum + Number(q.old_committed_offset), 0);
    expect({ oldOffsets, newOffsets }).toEqual({ oldOffsets: 6, newOffsets: 3 });
    const again = await receiveExactly(3);
    expect(idsOf(again)).toEqual([...second].sort());
    expect(again.every((m) => m.deliveryAttempt === 1)).toBe(true);
    await ackAll(again);
  }, 15_000);

  it('resets to the earliest offset: everything comes again, and in-flight handles turn stale', async () => {
    const answer = await reset({ edge: 'EARLIEST' });
    expect(answer.queues?.every((q) => q.new_offset === '0')).toBe(true);
    const all = await receiveExactly(6);
    expect(idsOf(all)).toEqual([...first, ...second].sort());
    const [held, ...rest] = all;
    await ackAll(rest);

    const latest = await reset({ edge: 'LATEST' });
    expect(latest.queues?.reduce((sum, q) => sum + (q.dropped_inflight ?? 0), 0)).toBe(1);
    await expect(consumer!.ack(held!)).rejects.toThrow(/INVALID_RECEIPT_HANDLE|superseded/);
    await expect(consumer!.receive(32, INVISIBLE_MS)).resolves.toEqual([]);
    const third = await send(2, 'third');
    const fresh = await receiveExactly(2);
    expect(idsOf(fresh)).toEqual([...third].sort());
    await ackAll(fresh);
  }, 20_000);

  it('treats a future timestamp as latest and says so', async () => {
    const answer = await reset({ timestamp_ms: Date.now() + 60_000 });
    expect(answer.future_timestamp).toBe(true);
    expect(answer.queues?.every((q) => q.new_offset === q.old_committed_offset)).toBe(true); // all acked: already at the end
  });

  it('keeps a reset across a broker restart', async () => {
    await reset({ timestamp_ms: between });
    await stop();
    await start();
    const again = await receiveExactly(5);
    expect(idsOf(again)).toEqual(expect.arrayContaining(second));
    expect(again.some((m) => first.includes(m.messageId))).toBe(false);
    await ackAll(again);
  }, 20_000);

  it('makes a PushConsumer receive again from the reset position', async () => {
    const received: string[] = [];
    const push = new PushConsumer({
      consumerGroup: PUSH_GROUP,
      endpoints: broker!.grpcAddress,
      namespace: '',
      subscriptions: new Map([[TOPIC, '*']]),
      messageListener: {
        consume: (message: MessageView) => {
          received.push(message.messageId);
          return ConsumeResult.SUCCESS;
        },
      },
      sslEnabled: false,
      logger: quietClientLogger,
    });
    await push.startup();
    try {
      // a new group on a young topic reads it from the start: 3 + 3 + 2 messages
      await waitFor(() => received.length >= 8, { timeoutMs: 8_000, intervalMs: 20, what: 'the first 8 pushed messages' });
      const before = received.length;
      await reset({ timestamp_ms: between }, PUSH_GROUP);
      await waitFor(() => received.length >= before + 5, { timeoutMs: 8_000, intervalMs: 20, what: '5 messages pushed again' });
      expect(received.slice(before).sort()).toEqual(expect.arrayContaining(second));
      expect(received.slice(before).some((id) => first.includes(id))).toBe(false);
    } finally {
      await push.shutdown();
    }
  }, 20_000);
});
