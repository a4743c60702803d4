import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConsumeResult, Producer, PushConsumer, SimpleConsumer, type MessageView } from 'rocketmq-client-nodejs';
import { createBrokerAdminClient } from '@apogee/protocol';
import { waitFor } from '@apogee/testing';
import type { RunningBroker } from '../src/start-broker';
import { quietClientLogger, shutdownClients, startSimpleConsumer, startStandaloneBroker } from './standalone-broker';
import { createRawV2Client, type RawV2Client, type ReceiveFrame } from './v2-raw-client';

// Broadcast groups (GroupConfig.broadcast, consumer/broadcast-state.ts) with the official
// RocketMQ 5 Node clients, which have no broadcasting switch: the group config decides. Every
// client of the group gets every message and keeps its own positions, acks and invisibility;
// a normal group still hands each message to one client; positions survive a broker restart;
// GetOffset / UpdateOffset, ResetOffset and GroupProgress act on each client's own positions.

// The PushConsumer's StandardConsumeService opens its own egg-logger (see messaging-push-consumer.spec.ts).
jest.mock('rocketmq-client-nodejs/dist/client/Logger', () => ({
  getDefaultLogger: () => ({ info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined }),
}));

const AWAIT_MS = 1_000;
const INVISIBLE_MS = 10_000;

async function newDataDir(): Promise<string> {
  return path.join(await mkdtemp(path.join(tmpdir(), 'apogee-broker-broadcast-')), 'data');
}

function startOn(dataDir: string): Promise<RunningBroker> {
  // short push polls: a PushConsumer's shutdown waits out its running long poll
  return startStandaloneBroker(dataDir, { autoCreateTopics: false, autoCreateGroups: false, pushLongPollingTimeoutMs: 2_000 });
}

async function createTopicAndGroups(broker: RunningBroker, topic: string, queues: number, groups: Array<{ name: string; broadcast: boolean }>) {
  const admin = createBrokerAdminClient(broker.grpcAddress);
  try {
    await admin.call('CreateTopic', { name: topic, read_queue_count: queues, write_queue_count: queues, message_type: 'NORMAL' });
    for (const group of groups) await admin.call('CreateGroup', group);
  } finally {
    admin.close();
  }
}

async function send(producer: Producer, topic: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await producer.send({ topic, tag: 'T', body: Buffer.from(`${topic} ${i}`) })).messageId);
  return ids;
}

/** Receives until `count` messages arrived (each receive long-polls up to AWAIT_MS). */
async function receiveCount(consumer: SimpleConsumer, count: number, invisibleMs = INVISIBLE_MS): Promise<MessageView[]> {
  const got: MessageView[] = [];
  await waitFor(
    async () => {
      got.push(...(await consumer.receive(32, invisibleMs)));
      return got.length >= count;
    },
    { timeoutMs: 8_000, intervalMs: 0, what: `${count} messages` },
  );
  return got;
}

const ids = (messages: readonly MessageView[]) => messages.map((m) => m.messageId).sort();
const duration = (ms: number) => ({ seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 });

/**
 * The broker of one describe: started on a fresh data dir with `topic` (2 queues) and `groups`,
 * plus a started Producer for the topic; every client pushed to `clients` is shut down, then the
 * broker stopped and its folder removed, after the describe.
 */
function useBroadcastBroker(topic: string, groups: Array<{ name: string; broadcast: boolean }>) {
  let dataDir: string | undefined;
  let running: RunningBroker | undefined;
  let started: Producer | undefined;
  const clients: { shutdown(): Promise<void> }[] = [];
  beforeAll(async () => {
    dataDir = await newDataDir();
    running = await startOn(dataDir);
    await createTopicAndGroups(running, topic, 2, groups);
    started = new Producer({ endpoints: running.grpcAddress, namespace: '', topics: [topic], sslEnabled: false, logger: quietClientLogger });
    await started.startup();
    clients.push(started);
  });
  afterAll(async () => {
    await shutdownClients(clients);
    await running?.stop();
    if (dataDir !== undefined) await rm(path.dirname(dataDir), { recursive: true, force: true });
  }, 20_000);
  return {
    clients,
    get broker(): RunningBroker {
      return running as RunningBroker;
    },
    get producer(): Producer {
      return started as Producer;
    },
  };
}

describe('broadcast groups with the official Node clients', () => {
  const env = useBroadcastBroker('bc-news', [
    { name: 'bc-group', broadcast: true },
    { name: 'bc-normal', broadcast: false },
  ]);

  const simpleConsumer = async (group: string, topic: string): Promise<SimpleConsumer> => {
    const consumer = await startSimpleConsumer(env.broker.grpcAddress, group, topic, AWAIT_MS);
    env.clients.push(consumer);
    return consumer;
  };

  it('shows the setting in GetGroup and ListGroups and refuses to change it', async () => {
    const admin = createBrokerAdminClient(env.broker.grpcAddress);
    try {
      await expect(admin.call('GetGroup', { name: 'bc-group' })).resolves.toMatchObject({ group: { name: 'bc-group', broadcast: true } });
      const listed = (await admin.call('ListGroups', {})).groups ?? [];
      expect(listed.find((g) => g.name === 'bc-group')).toMatchObject({ broadcast: true });
      expect(listed.find((g) => g.name === 'bc-normal')?.broadcast ?? false).toBe(false);
      await expect(admin.call('UpdateGroup', { name: 'bc-group', broadcast: false })).rejects.toThrow(/broadcast cannot be changed/);
      await expect(admin.call('UpdateGroup', { name: 'bc-group', broadcast: true, max_delivery_attempts: 4 })).resolves.toMatchObject({
        group: { broadcast: true, max_delivery_attempts: 4 },
      });
    } finally {
      admin.close();
    }
  });

  it('delivers every message to every client, each with its own acks and invisibility', async () => {
    const early = await send(env.producer, 'bc-news', 1);
    const a = await simpleConsumer('bc-group', 'bc-news');
    const b = await simpleConsumer('bc-group', 'bc-news');
    // a client's first receive starts it at the end of each queue: the earlier message is not for it
    await expect(a.receive(32, INVISIBLE_MS)).resolves.toEqual([]);
    await expect(b.receive(32, INVISIBLE_MS)).resolves.toEqual([]);

    const sent = (await send(env.producer, 'bc-news', 4)).sort();
    const gotA = await receiveCount(a, 4);
    const gotB = await receiveCount(b, 4);
    expect(ids(gotA)).toEqual(sent);
    expect(ids(gotB)).toEqual(sent);
    expect(sent).not.toContain(early[0]);

    // another client's receipt handle is refused, saying why
    await expect(a.ack(gotB[0])).rejects.toThrow(/broadcast group: a receipt handle is valid only for the client that received/);

    for (const message of gotA) await a.ack(message);
    for (const message of gotB) await b.changeInvisibleDuration(message, 1_000);
    const again = await receiveCount(b, 4);
    expect(ids(again)).toEqual(sent);
    expect(again.map((m) => m.deliveryAttempt)).toEqual([2, 2, 2, 2]);
    await expect(a.receive(32, INVISIBLE_MS)).resolves.toEqual([]);
    for (const message of again) await b.ack(message);
    await expect(b.receive(32, INVISIBLE_MS)).resolves.toEqual([]);
  }, 30_000);

  it('still hands each message of a normal group to one client', async () => {
    const a = await simpleConsumer('bc-normal', 'bc-news');
    const b = await simpleConsumer('bc-normal', 'bc-news');
    const sent = await send(env.producer, 'bc-news', 6);
    const got: MessageView[] = [];
    await waitFor(
      async () => {
        const [fromA, fromB] = await Promise.all([a.receive(32, INVISIBLE_MS), b.receive(32, INVISIBLE_MS)]);
        for (const message of fromA) await a.ack(message);
        for (const message of fromB) await b.ack(message);
        got.push(...fromA, ...fromB);
        return got.length >= 6 + 5; // the 5 earlier messages of bc-news too: a normal group starts at 0 here
      },
      { timeoutMs: 8_000, intervalMs: 0, what: 'the messages of the normal group' },
    );
    expect(got).toHaveLength(11);
    expect(new Set(got.map((m) => m.messageId)).size).toBe(11);
    expect(got.map((m) => m.messageId)).toEqual(expect.arrayContaining(sent));
  }, 20_000);
});

describe('broadcast groups with the official Node PushConsumer', () => {
  const env = useBroadcastBroker('bc-push', [{ name: 'bc-push-group', broadcast: true }]);

  it('delivers every message to every PushConsumer of the group', async () => {
    const received = [new Set<string>(), new Set<string>()];
    const push = async (seen: Set<string>) => {
      const consumer = new PushConsumer({
        consumerGroup: 'bc-push-group',
        endpoints: env.broker.grpcAddress,
        namespace: '',
        subscriptions: new Map([['bc-push', '*']]),
        messageListener: {
          consume: async (message: MessageView) => {
            seen.add(message.messageId);
            return ConsumeResult.SUCCESS;
          },
        },
        sslEnabled: false,
        logger: quietClientLogger,
      });
      env.clients.push(consumer);
      await consumer.startup();
      return consumer;
    };
    await push(received[0]);
    await push(received[1]);
    // a client starts at the queue's end on its first receive: probe until both are polling
    await waitFor(
      async () => {
        await send(env.producer, 'bc-push', 1);
        return received[0].size > 0 && received[1].size > 0;
      },
      { timeoutMs: 10_000, intervalMs: 200, what: 'both push consumers polling' },
    );
    const sent = await send(env.producer, 'bc-push', 5);
    await waitFor(() => sent.every((id) => received[0].has(id) && received[1].has(id)), {
      timeoutMs: 10_000,
      what: 'every message at both push consumers',
    });
  }, 30_000);
});

describe('offsets, reset and progress of a broadcast group', () => {
  const env = useBroadcastBroker('bc-reset', [{ name: 'bc-reset-group', broadcast: true }]);
  let admin: ReturnType<typeof createBrokerAdminClient> | undefined;
  const raws: RawV2Client[] = [];

  const simpleConsumer = async (): Promise<SimpleConsumer> => {
    const consumer = await startSimpleConsumer(env.broker.grpcAddress, 'bc-reset-group', 'bc-reset', AWAIT_MS);
    env.clients.push(consumer);
    return consumer;
  };
  const ackAll = async (consumer: SimpleConsumer, messages: readonly MessageView[]) => {
    for (const message of messages) await consumer.ack(message);
  };
  /** GroupProgress rows as (client, queue, committed, lag), sorted as the broker sorts them. */
  const progress = async (topic?: string) =>
    ((await admin!.call('GroupProgress', { group: 'bc-reset-group', ...(topic === undefined ? {} : { topic }) })).queues ?? []).map((q) => ({
      client: q.client_id,
      queue: q.queue_id,
      committed: Number(q.committed_offset),
      lag: Number(q.lag),
      inflight: q.inflight ?? 0,
      consumed: q.consumed,
    }));

  beforeAll(() => {
    admin = createBrokerAdminClient(env.broker.grpcAddress);
  });

  afterAll(() => {
    for (const raw of raws) raw.close();
    admin?.close();
  });

  it('shows every client in GroupProgress; a reset replays to every client, and to clients that appear later', async () => {
    const a = await simpleConsumer();
    const b = await simpleConsumer();
    await expect(a.receive(32, INVISIBLE_MS)).resolves.toEqual([]);
    await expect(b.receive(32, INVISIBLE_MS)).resolves.toEqual([]);
    const sent = (await send(env.producer, 'bc-reset', 4)).sort();
    const gotA = await receiveCount(a, 4);
    const gotB = await receiveCount(b, 4);
    expect([ids(gotA), ids(gotB)]).toEqual([sent, sent]);
    await ackAll(a, gotA);
    await ackAll(b, gotB.slice(1)); // b leaves one in flight

    const [first, second] = [a.clientId, b.clientId].sort();
    const rows = await progress();
    expect(rows.map((r) => [r.client, r.queue])).toEqual([
      [first, 0],
      [first, 1],
      [second, 0],
      [second, 1],
    ]);
    const sumOf = (client: string, field: 'lag' | 'inflight') => rows.filter((r) => r.client === client).reduce((sum, r) => sum + r[field], 0);
    expect([sumOf(a.clientId, 'lag'), sumOf(a.clientId, 'inflight'), sumOf(b.clientId, 'inflight')]).toEqual([0, 0, 1]);
    expect(sumOf(b.clientId, 'lag')).toBeGreaterThanOrEqual(1);
    expect(rows.every((r) => r.consumed)).toBe(true);
    expect(await progress('bc-reset')).toEqual(rows);

    const reset = await admin!.call('ResetOffset', { group: 'bc-reset-group', topic: 'bc-reset', edge: 'EARLIEST' });
    expect(reset.broadcast).toBe(true);
    expect((reset.queues ?? []).map((q) => [q.client_id ?? '', q.queue_id, Number(q.new_offset)])).toEqual([
      [first, 0, 0],
      [first, 1, 0],
      [second, 0, 0],
      [second, 1, 0],
      ['', 0, 0],
      ['', 1, 0],
    ]);
    expect((reset.queues ?? []).reduce((sum, q) => sum + (q.dropped_inflight ?? 0), 0)).toBe(1);

    const againA = await receiveCount(a, 4);
    const againB = await receiveCount(b, 4);
    expect([ids(againA), ids(againB)]).toEqual([sent, sent]);
    // a consumer that first appears after the reset (a restarted process is a new client) starts at the target too
    const c = await simpleConsumer();
    expect(ids(await receiveCount(c, 4))).toEqual(sent);
    await Promise.all([ackAll(a, againA), ackAll(b, againB)]);

    // LATEST: known clients skip the backlog, new clients start at the end again when they appear
    await send(env.producer, 'bc-reset', 2);
    const latest = await admin!.call('ResetOffset', { group: 'bc-reset-group', topic: 'bc-reset', edge: 'LATEST' });
    expect(latest.queues?.filter((q) => q.client_id === undefined || q.client_id === '')).toHaveLength(2);
    const d = await simpleConsumer();
    for (const consumer of [a, b, c, d]) await expect(consumer.receive(32, INVISIBLE_MS)).resolves.toEqual([]);
    const [later] = await send(env.producer, 'bc-reset', 1);
    for (const consumer of [a, b, c, d]) expect(ids(await receiveCount(consumer, 1))).toEqual([later]);
    expect(new Set((await progress()).map((r) => r.client))).toEqual(new Set([a.clientId, b.clientId, c.clientId, d.clientId]));
  }, 60_000);

  it('keeps GetOffset and UpdateOffset per client', async () => {
    const [x, y] = ['bc-x@1@0@0', 'bc-y@1@0@0'].map((id) => {
      const raw = createRawV2Client(env.broker.grpcAddress, id);
      raws.push(raw);
      return raw;
    });
    const queue = { topic: { name: 'bc-reset' }, id: 1 };
    type OffsetReply = { status: { code: string; message: string }; offset?: string };
    const get = (raw: RawV2Client) => raw.call<OffsetReply>('GetOffset', { group: { name: 'bc-reset-group' }, message_queue: queue });
    const update = (raw: RawV2Client, offset: number) =>
      raw.call<OffsetReply>('UpdateOffset', { group: { name: 'bc-reset-group' }, message_queue: queue, offset: String(offset) });

    await expect(update(x, 1)).resolves.toMatchObject({ status: { code: 'OK' } });
    await expect(get(x)).resolves.toMatchObject({ status: { code: 'OK' }, offset: '1' });
    await expect(get(y)).resolves.toMatchObject({
      status: { code: 'OFFSET_NOT_FOUND', message: expect.stringContaining('Client "bc-y@1@0@0" of broadcast group "bc-reset-group"') },
    });
    await expect(update(y, 2)).resolves.toMatchObject({ status: { code: 'OK' } });
    await expect(get(x)).resolves.toMatchObject({ offset: '1' });
    await expect(get(y)).resolves.toMatchObject({ offset: '2' });
    const rows = await progress('bc-reset');
    expect(rows.filter((r) => r.client === 'bc-x@1@0@0')).toEqual([
      expect.objectContaining({ queue: 0, consumed: false }),
      expect.objectContaining({ queue: 1, committed: 1, consumed: true }),
    ]);
  }, 20_000);
});

describe('broadcast positions across a broker restart', () => {
  let dataDir: string;
  let broker: RunningBroker | undefined;
  const raws: RawV2Client[] = [];
  const clients: { shutdown(): Promise<void> }[] = [];

  afterAll(async () => {
    for (const raw of raws) raw.close();
    await shutdownClients(clients);
    await broker?.stop();
    if (dataDir !== undefined) await rm(path.dirname(dataDir), { recursive: true, force: true });
  });

  /** A raw client with a fixed client id, as a client that comes back after the restart. */
  const rawClient = (clientId: string): RawV2Client => {
    const raw = createRawV2Client(broker!.grpcAddress, clientId);
    raws.push(raw);
    return raw;
  };
  const receive = async (raw: RawV2Client, batchSize: number) => {
    const frames: ReceiveFrame[] = await raw.receive({
      group: { name: 'bc-restart-group' },
      message_queue: { topic: { name: 'bc-restart' }, id: 0, broker: { name: 'broker-a' } },
      filter_expression: { type: 'TAG', expression: '*' },
      batch_size: batchSize,
      invisible_duration: duration(INVISIBLE_MS),
      auto_renew: false,
      long_polling_timeout: duration(300),
    });
    return frames.flatMap((f) => (f.message === undefined ? [] : [f.message.system_properties as { message_id: string; receipt_handle: string }]));
  };
  const ack = async (raw: RawV2Client, message: { message_id: string; receipt_handle: string }) => {
    const answer = await raw.call<{ status: { code: string } }>('AckMessage', {
      group: { name: 'bc-restart-group' },
      topic: { name: 'bc-restart' },
      entries: [{ message_id: message.message_id, receipt_handle: message.receipt_handle }],
    });
    expect(answer.status.code).toBe('OK');
  };
  const sendOn = async (count: number): Promise<string[]> => {
    const producer = new Producer({ endpoints: broker!.grpcAddress, namespace: '', topics: ['bc-restart'], sslEnabled: false, logger: quietClientLogger });
    await producer.startup();
    try {
      return await send(producer, 'bc-restart', count);
    } finally {
      await producer.shutdown();
    }
  };

  it('keeps each client id where it was; a new client id starts at the end', async () => {
    dataDir = await newDataDir();
    broker = await startOn(dataDir);
    await createTopicAndGroups(broker, 'bc-restart', 1, [{ name: 'bc-restart-group', broadcast: true }]);
    const [a, b] = [rawClient('bc-a@1@0@0'), rawClient('bc-b@1@0@0')];
    expect(await receive(a, 32)).toEqual([]);
    expect(await receive(b, 32)).toEqual([]);
    const sent = await sendOn(3);
    const gotA = await waitFor(async () => {
      const got = await receive(a, 32);
      return got.length === 3 && got;
    });
    for (const message of gotA) await ack(a, message);
    const [firstB] = await receive(b, 1);
    expect(firstB.message_id).toBe(sent[0]);
    await ack(b, firstB);
    for (const raw of raws.splice(0)) raw.close();
    await broker.stop();

    broker = await startOn(dataDir);
    const admin = createBrokerAdminClient(broker.grpcAddress);
    try {
      const { queues } = await admin.call('GroupProgress', { group: 'bc-restart-group' });
      expect((queues ?? []).map((q) => [q.client_id, Number(q.committed_offset), Number(q.lag)])).toEqual([
        ['bc-a@1@0@0', 3, 0],
        ['bc-b@1@0@0', 1, 2],
      ]);
    } finally {
      admin.close();
    }
    const [a2, b2, c] = [rawClient('bc-a@1@0@0'), rawClient('bc-b@1@0@0'), rawClient('bc-c@1@0@0')];
    expect(await receive(a2, 32)).toEqual([]);
    const restB = await receive(b2, 32);
    expect(restB.map((m) => m.message_id)).toEqual(sent.slice(1));
    expect(await receive(c, 32)).toEqual([]);
    const [later] = await sendOn(1);
    for (const raw of [a2, b2, c]) {
      const got = await waitFor(async () => {
        const batch = await receive(raw, 32);
        return batch.length > 0 && batch;
      });
      expect(got.map((m) => m.message_id)).toEqual([later]);
    }
  }, 30_000);
});

