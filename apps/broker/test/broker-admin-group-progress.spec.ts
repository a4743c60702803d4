import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status, type ServiceError } from '@grpc/grpc-js';
import { Producer, SimpleConsumer, type MessageView } from 'rocketmq-client-nodejs';
import { createBrokerAdminClient, ERROR_CODE_METADATA_KEY, type BrokerAdminClient } from '@apogee/protocol';
import { waitFor } from '@apogee/testing';
import type { RunningBroker } from '../src/start-broker';
import { quietClientLogger, shutdownClients, startStandaloneBroker } from './standalone-broker';

// BrokerAdmin.GroupProgress over real gRPC, with the official Node Producer and SimpleConsumer:
// committed / next / max offsets, lag in messages and seconds, and in-flight counts per queue.

const TOPIC = 'gp-orders';
const OTHER = 'gp-audit';
const GROUP = 'gp-group';
const IDLE_GROUP = 'gp-idle';
const SENT = 10;
const ACKED = 4;

describe('GroupProgress', () => {
  let dataDir: string;
  let broker: RunningBroker | undefined;
  let admin: BrokerAdminClient | undefined;
  let producer: Producer | undefined;
  let consumer: SimpleConsumer | undefined;
  let received: MessageView[] = [];

  const progress = (request: { group: string; topic?: string }) => admin!.call('GroupProgress', request);

  beforeAll(async () => {
    dataDir = path.join(await mkdtemp(path.join(tmpdir(), 'apogee-broker-progress-')), 'data');
    broker = await startStandaloneBroker(dataDir);
    admin = createBrokerAdminClient(broker.grpcAddress);
    await admin.call('CreateTopic', { name: TOPIC, read_queue_count: 1, write_queue_count: 1 });
    await admin.call('CreateTopic', { name: OTHER, read_queue_count: 2, write_queue_count: 2 });
    await admin.call('CreateGroup', { name: GROUP });
    await admin.call('CreateGroup', { name: IDLE_GROUP });
    producer = new Producer({ endpoints: broker.grpcAddress, namespace: '', topics: [TOPIC, OTHER], sslEnabled: false, logger: quietClientLogger });
    await producer.startup();
    for (let i = 0; i < SENT; i++) await producer.send({ topic: TOPIC, tag: 'T', body: Buffer.from(`order ${i}`) });
    for (let i = 0; i < 3; i++) await producer.send({ topic: OTHER, tag: 'T', body: Buffer.from(`audit ${i}`) });
    consumer = new SimpleConsumer({
      consumerGroup: GROUP,
      endpoints: broker.grpcAddress,
      namespace: '',
      subscriptions: new Map([[TOPIC, '*']]),
      awaitDuration: 1_000,
      sslEnabled: false,
      logger: quietClientLogger,
    });
    await consumer.startup();
  }, 30_000);

  afterAll(async () => {
    await shutdownClients([consumer, producer]);
    admin?.close();
    await broker?.stop();
    if (dataDir !== undefined) await rm(path.dirname(dataDir), { recursive: true, force: true });
  });

  it('answers no queues for a group that consumed nothing, and every queue of a given topic', async () => {
    await expect(progress({ group: IDLE_GROUP })).resolves.toEqual({ group: IDLE_GROUP }); // an empty repeated field is not sent
    const { queues = [] } = await progress({ group: IDLE_GROUP, topic: OTHER });
    expect(queues.map((q) => [q.topic, q.queue_id ?? 0, q.consumed ?? false, q.inflight ?? 0])).toEqual([
      [OTHER, 0, false, 0],
      [OTHER, 1, false, 0],
    ]);
    // A new group starts at the start of a queue that still begins at 0: all 3 messages are lag.
    expect(queues.reduce((sum, q) => sum + Number(q.lag ?? 0), 0)).toBe(3);
    expect(queues.reduce((sum, q) => sum + Number(q.max_offset ?? 0), 0)).toBe(3);
  });

  it('counts acked, in-flight and waiting messages of a consumed queue', async () => {
    await waitFor(
      async () => {
        received.push(...(await consumer!.receive(32, 30_000)));
        return received.length >= SENT;
      },
      { timeoutMs: 8_000, intervalMs: 0, what: `${SENT} messages` },
    );
    received = received.sort((a, b) => (a.offset ?? 0) - (b.offset ?? 0));
    for (const message of received.slice(0, ACKED)) await consumer!.ack(message);
    // polls until the oldest unacked message is over 1 s old, as lag_seconds reports it
    const { group, queues = [] } = await waitFor(
      async () => {
        const answer = await progress({ group: GROUP });
        return (answer.queues?.[0]?.lag_seconds ?? 0) >= 1 && answer;
      },
      { timeoutMs: 5_000, what: 'lag_seconds of at least 1' },
    );
    expect(group).toBe(GROUP);
    expect(queues).toHaveLength(1);
    const [queue] = queues;
    expect(queue).toMatchObject({
      topic: TOPIC,
      committed_offset: String(ACKED),
      next_offset: String(SENT),
      max_offset: String(SENT),
      lag: String(SENT - ACKED),
      inflight: SENT - ACKED,
      consumed: true,
    });
    expect(queue?.queue_id ?? 0).toBe(0);
    expect(queue?.lag_seconds).toBeGreaterThanOrEqual(1);
    expect(queue?.lag_seconds).toBeLessThan(60);

    // With the topic: the same queue; the other topic's queues are not the group's.
    const withoutAge = ({ lag_seconds: _age, ...rest }: (typeof queues)[number]) => rest;
    const byTopic = await progress({ group: GROUP, topic: TOPIC });
    expect((byTopic.queues ?? []).map(withoutAge)).toEqual(queues.map(withoutAge));
  }, 20_000);

  it('shows no lag once everything is acked', async () => {
    for (const message of received.slice(ACKED)) await consumer!.ack(message);
    const { queues = [] } = await progress({ group: GROUP });
    expect(queues).toHaveLength(1);
    expect(queues[0]).toMatchObject({ committed_offset: String(SENT), max_offset: String(SENT), consumed: true });
    expect([queues[0]?.lag, queues[0]?.inflight, queues[0]?.lag_seconds]).toEqual(['0', 0, 0]);
  });

  it('refuses an unknown group or topic with NOT_FOUND and a bad name with INVALID_ARGUMENT', async () => {
    const failure = async (call: Promise<unknown>) => {
      const err = (await call.then(
        () => {
          throw new Error('the call succeeded');
        },
        (e: unknown) => e,
      )) as ServiceError;
      return { code: err.code, apogeeCode: err.metadata.get(ERROR_CODE_METADATA_KEY)[0] };
    };
    await expect(failure(progress({ group: 'nobody' }))).resolves.toEqual({ code: status.NOT_FOUND, apogeeCode: 'GROUP_NOT_FOUND' });
    await expect(failure(progress({ group: GROUP, topic: 'no-such-topic' }))).resolves.toEqual({
      code: status.NOT_FOUND,
      apogeeCode: 'TOPIC_NOT_FOUND',
    });
    await expect(failure(progress({ group: 'bad name!' }))).resolves.toMatchObject({ code: status.INVALID_ARGUMENT });
  });
});
