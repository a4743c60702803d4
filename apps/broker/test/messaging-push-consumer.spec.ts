import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConsumeResult, Producer, PushConsumer, type MessageView } from 'rocketmq-client-nodejs';
import { createBrokerAdminClient } from '@apogee/protocol';
import { waitFor } from '@apogee/testing';
import type { RunningBroker } from '../src/start-broker';
import { quietClientLogger, shutdownClients, startStandaloneBroker } from './standalone-broker';
import { createRawV2Client, type RawV2Client } from './v2-raw-client';

// The official RocketMQ 5 Node PushConsumer (rocketmq-client-nodejs) against a broker started
// in-process: QueryAssignment (one id −1 assignment per broker, per queue for FIFO groups),
// receive loops with auto_renew, acks, and a FAILURE nack redelivered with deliveryAttempt + 1.

// The client's StandardConsumeService ignores the consumer's logger and opens its own egg-logger
// (a file under ~/logs with a 1 s flush interval nobody stops), which keeps jest from exiting.
jest.mock('rocketmq-client-nodejs/dist/client/Logger', () => ({
  getDefaultLogger: () => ({ info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined }),
}));


interface AssignmentAnswer {
  status: { code: string; message: string };
  assignments: { message_queue: { id: number; permission: string; broker: { name: string; id: number; endpoints: { addresses: { port: number }[] } } } }[];
}

interface DeliveredFrame {
  topic: { name: string };
  system_properties: Record<string, unknown>;
  user_properties?: Record<string, string>;
  body: Uint8Array;
}

describe('MessagingService with the official Node PushConsumer', () => {
  let dataDir: string;
  let broker: RunningBroker | undefined;
  let producer: Producer | undefined;
  let raw: RawV2Client | undefined;
  const consumers: PushConsumer[] = [];

  const open = async (group: string, topic: string, consume: (message: MessageView) => ConsumeResult): Promise<PushConsumer> => {
    const consumer = new PushConsumer({
      consumerGroup: group,
      endpoints: broker!.grpcAddress,
      namespace: '',
      subscriptions: new Map([[topic, '*']]),
      messageListener: { consume },
      sslEnabled: false,
      logger: quietClientLogger,
    });
    consumers.push(consumer);
    await consumer.startup();
    return consumer;
  };

  const send = async (topic: string, count: number): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push((await producer!.send({ topic, tag: 'T', body: Buffer.from(`${topic} ${i}`) })).messageId);
    return ids;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'apogee-broker-push-'));
    broker = await startStandaloneBroker(path.join(dataDir, 'data'), {
      autoCreateTopics: true,
      autoCreateGroups: true,
      pushLongPollingTimeoutMs: 2_000, // short polls: a push consumer's shutdown waits out its current poll
    });
    producer = new Producer({ endpoints: broker.grpcAddress, namespace: '', topics: ['pc-orders', 'pc-retry', 'pc-offsets', 'pc-dlq'], sslEnabled: false, logger: quietClientLogger });
    await producer.startup();
    raw = createRawV2Client(broker.grpcAddress);
  }, 15_000);

  afterAll(async () => {
    raw?.close();
    await shutdownClients([...consumers, producer]);
    await broker?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }, 15_000);

  it('assigns one whole broker (queue id -1) to a standard group, and every queue to a FIFO group', async () => {
    await send('pc-orders', 1);
    const endpoints = { scheme: 'IPv4', addresses: [{ host: '127.0.0.1', port: 0 }] };
    const standard = await raw!.call<AssignmentAnswer>('QueryAssignment', {
      topic: { name: 'pc-orders' },
      group: { name: 'pc-assign' },
      endpoints,
    });
    expect(standard.status.code).toBe('OK');
    expect(standard.assignments).toHaveLength(1);
    const [assignment] = standard.assignments;
    expect(assignment?.message_queue).toMatchObject({ id: -1, permission: 'READ_WRITE', broker: { id: 0 } });
    expect(assignment?.message_queue.broker.endpoints.addresses[0]?.port).toBe(Number(broker!.grpcAddress.split(':').pop()));

    const admin = createBrokerAdminClient(broker!.grpcAddress);
    try {
      await admin.call('CreateGroup', { name: 'pc-fifo', fifo: true });
    } finally {
      admin.close();
    }
    const fifo = await raw!.call<AssignmentAnswer>('QueryAssignment', { topic: { name: 'pc-orders' }, group: { name: 'pc-fifo' }, endpoints });
    expect(fifo.status.code).toBe('OK');
    expect(fifo.assignments.length).toBeGreaterThan(1);
    expect(fifo.assignments.map((a) => a.message_queue.id)).toEqual(fifo.assignments.map((_, i) => i));

    const bad = await raw!.call<AssignmentAnswer>('QueryAssignment', { topic: { name: 'bad topic!' }, group: { name: 'pc-assign' }, endpoints });
    expect(bad.status.code).not.toBe('OK');
  });

  it('answers QueryOffset by BEGINNING, END and TIMESTAMP', async () => {
    const before = Date.now();
    await send('pc-offsets', 3);
    const ask = (queueId: number, policy: string, timestamp?: object) =>
      raw!.call<{ status: { code: string }; offset: string }>('QueryOffset', {
        message_queue: { topic: { name: 'pc-offsets' }, id: queueId },
        query_offset_policy: policy,
        ...(timestamp ? { timestamp } : {}),
      });
    const ends = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(async (id) => Number((await ask(id, 'END')).offset)));
    expect(ends.reduce((a, b) => a + b, 0)).toBe(3);
    const used = ends.findIndex((end) => end > 0);
    expect(await ask(used, 'BEGINNING')).toMatchObject({ status: { code: 'OK' }, offset: '0' });
    const past = { seconds: String(Math.floor(before / 1000) - 60), nanos: 0 };
    expect(await ask(used, 'TIMESTAMP', past)).toMatchObject({ status: { code: 'OK' }, offset: '0' });
    const future = { seconds: String(Math.floor(Date.now() / 1000) + 60), nanos: 0 };
    expect(Number((await ask(used, 'TIMESTAMP', future)).offset)).toBe(ends[used]);
    expect((await ask(99, 'END')).status.code).toBe('BAD_REQUEST');
    expect((await raw!.call<{ status: { code: string } }>('QueryOffset', { message_queue: { topic: { name: 'pc-none' }, id: 0 } })).status.code).toBe(
      'TOPIC_NOT_FOUND',
    );
  });

  it('delivers every message once across two push consumers of one group', async () => {
    const received: string[] = [];
    const listener = (message: MessageView): ConsumeResult => {
      received.push(message.messageId);
      return ConsumeResult.SUCCESS;
    };
    await open('pc-group', 'pc-orders', listener);
    await open('pc-group', 'pc-orders', listener);
    const ids = await send('pc-orders', 20);
    await waitFor(() => ids.every((id) => received.includes(id)), { timeoutMs: 8_000, intervalMs: 50, what: 'all 20 messages' });
    // the one message sent by the first test is on the young topic too, so the new group gets it
    expect(new Set(received).size).toBe(received.length);
    expect(received).toHaveLength(21);
  }, 12_000);

  it('redelivers a FAILURE with deliveryAttempt + 1', async () => {
    const attempts: number[] = [];
    await open('pc-retry-group', 'pc-retry', (message) => {
      attempts.push(message.deliveryAttempt ?? 0);
      return attempts.length === 1 ? ConsumeResult.FAILURE : ConsumeResult.SUCCESS;
    });
    await send('pc-retry', 1);
    await waitFor(() => attempts.length >= 2, { timeoutMs: 8_000, intervalMs: 50, what: 'a redelivery' });
    expect(attempts.slice(0, 2)).toEqual([1, 2]);
  }, 12_000);

  it('dead-letters a message after max delivery attempts; the %DLQ% topic serves it with its origin', async () => {
    const admin = createBrokerAdminClient(broker!.grpcAddress);
    try {
      await admin.call('CreateGroup', { name: 'pc-dlq-group', max_delivery_attempts: 2 });
    } finally {
      admin.close();
    }
    const attempts: number[] = [];
    await open('pc-dlq-group', 'pc-dlq', (message) => {
      attempts.push(message.deliveryAttempt ?? 0);
      return ConsumeResult.FAILURE;
    });
    const [id] = await send('pc-dlq', 1);
    const dlqTopic = '%DLQ%pc-dlq-group';
    const request = {
      group: { name: 'pc-dlq-reader' },
      message_queue: { topic: { name: dlqTopic }, id: 0 },
      filter_expression: { type: 'TAG', expression: '*' },
      batch_size: 32,
      invisible_duration: { seconds: 30 },
      auto_renew: false,
      long_polling_timeout: { seconds: 1 },
    };
    const dead = await waitFor(
      async () => (await raw!.receive(request)).find((frame) => frame.message !== undefined)?.message as DeliveredFrame | undefined,
      { timeoutMs: 10_000, what: 'the message in the DLQ' },
    );
    expect(attempts).toEqual([1, 2]); // delivered max_delivery_attempts times, then dead-lettered
    expect(dead.topic.name).toBe(dlqTopic);
    expect(dead.system_properties).toMatchObject({ message_id: id, dead_letter_queue: { topic: 'pc-dlq', message_id: id } });
    expect(dead.user_properties ?? {}).toEqual({}); // the origin is not a user property
    expect(Buffer.from(dead.body).toString()).toBe('pc-dlq 0');
  }, 20_000);

  it('hands back what a leaving push consumer held (auto_renew) within about a second, not after 30 minutes', async () => {
    const [id] = await send('pc-release', 1);
    const request = {
      group: { name: 'pc-release-group' },
      message_queue: { topic: { name: 'pc-release' }, id: 0 },
      filter_expression: { type: 'TAG', expression: '*' },
      batch_size: 32,
      auto_renew: true,
      long_polling_timeout: { seconds: 1 },
    };
    const leaving = createRawV2Client(broker!.grpcAddress, 'leaving-client@1@0@0');
    const staying = createRawV2Client(broker!.grpcAddress, 'staying-client@1@0@0');
    try {
      const held = await waitFor(async () => (await leaving.receive(request)).find((f) => f.message !== undefined)?.message, {
        what: 'the first delivery',
      });
      expect(held.system_properties).toMatchObject({ message_id: id, delivery_attempt: 1 });
      expect((await staying.receive(request)).some((f) => f.message !== undefined)).toBe(false); // hidden for 30 min
      await leaving.call('NotifyClientTermination', { group: { name: 'pc-release-group' } });
      const back = await waitFor(async () => (await staying.receive(request)).find((f) => f.message !== undefined)?.message, {
        timeoutMs: 5_000,
        what: 'the handed-back delivery',
      });
      expect(back.system_properties).toMatchObject({ message_id: id, delivery_attempt: 2 });
    } finally {
      leaving.close();
      staying.close();
    }
  }, 15_000);
});

