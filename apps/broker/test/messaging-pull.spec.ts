import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Producer } from 'rocketmq-client-nodejs';
import { createBrokerAdminClient } from '@apogee/protocol';
import type { RunningBroker } from '../src/start-broker';
import { quietClientLogger, shutdownClients, startStandaloneBroker } from './standalone-broker';
import { createRawV2Client, type RawV2Client } from './v2-raw-client';

// The offset-based pull RPCs (PullMessage, GetOffset, UpdateOffset) against a broker started
// in-process: messages sent with the official Node Producer, pulled with a raw gRPC client (the
// Node client has no pull consumer). Batches chained by next_offset, tag filters, long polling,
// committed offsets across a restart, and bad input answered in-band.

interface PullFrame {
  status?: { code: string; message: string };
  message?: { topic: { name: string }; body: Buffer; system_properties: Record<string, unknown> };
  next_offset?: string;
}

interface PullAnswer {
  status: { code: string; message: string };
  messages: NonNullable<PullFrame['message']>[];
  nextOffset?: number;
}

const duration = (ms: number) => ({ seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 });

async function newDataDir(): Promise<string> {
  return path.join(await mkdtemp(path.join(tmpdir(), 'apogee-broker-pull-')), 'data');
}

function startOn(dataDir: string): Promise<RunningBroker> {
  return startStandaloneBroker(dataDir, { autoCreateTopics: true, autoCreateGroups: true });
}

/** Every frame of one server-streaming call, until the server ends it (a raw client per call). */
async function streamCall<F>(address: string, method: string, request: object, deadlineMs: number): Promise<F[]> {
  const client = createRawV2Client(address, 'pull-test@1@0@0');
  try {
    return await client.stream<F>(method, request, deadlineMs);
  } finally {
    client.close();
  }
}

/** A PullMessage call, checked for the frame order: one status first, messages, next_offset last. */
async function pull(address: string, request: object, deadlineMs = 4_000): Promise<PullAnswer> {
  const frames = await streamCall<PullFrame>(address, 'PullMessage', request, deadlineMs);
  expect(frames.filter((f) => f.status !== undefined)).toHaveLength(1);
  expect(frames[0].status).toBeDefined();
  const next = frames.filter((f) => f.next_offset !== undefined);
  expect(next.length).toBeLessThanOrEqual(1);
  if (next.length === 1) expect(frames.at(-1)).toBe(next[0]);
  return {
    status: frames[0].status!,
    messages: frames.flatMap((f) => (f.message === undefined ? [] : [f.message])),
    nextOffset: next.length === 1 ? Number(next[0].next_offset) : undefined,
  };
}

function pullRequest(group: string, topic: string, offset: number, extra: Record<string, unknown> = {}): object {
  return {
    group: { name: group },
    message_queue: { topic: { name: topic }, id: 0, broker: { name: 'broker-a' } },
    offset: String(offset),
    batch_size: 3,
    filter_expression: { type: 'TAG', expression: '*' },
    long_polling_timeout: duration(0),
    ...extra,
  };
}

async function createTopics(broker: RunningBroker, names: string[]): Promise<void> {
  const admin = createBrokerAdminClient(broker.grpcAddress);
  try {
    for (const name of names) await admin.call('CreateTopic', { name, read_queue_count: 1, write_queue_count: 1, message_type: 'NORMAL' });
  } finally {
    admin.close();
  }
}

async function sendAll(producer: Producer, topic: string, tags: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, tag] of tags.entries()) ids.push((await producer.send({ topic, tag, body: Buffer.from(`${topic} ${i}`) })).messageId);
  return ids;
}

type StatusReply = { status: { code: string; message: string } };
type OffsetReply = StatusReply & { offset?: string };

describe('PullMessage, GetOffset and UpdateOffset', () => {
  let dataDir: string;
  let broker: RunningBroker | undefined;
  let producer: Producer | undefined;
  let raw: RawV2Client | undefined;

  beforeAll(async () => {
    dataDir = await newDataDir();
    broker = await startOn(dataDir);
    await createTopics(broker, ['pl-orders', 'pl-tags', 'pl-longpoll']);
    producer = new Producer({
      endpoints: broker.grpcAddress,
      namespace: '',
      topics: ['pl-orders', 'pl-tags', 'pl-longpoll'],
      sslEnabled: false,
      logger: quietClientLogger,
    });
    await producer.startup();
    raw = createRawV2Client(broker.grpcAddress);
  }, 15_000);

  afterAll(async () => {
    raw?.close();
    await shutdownClients([producer]);
    await broker?.stop();
    if (dataDir !== undefined) await rm(path.dirname(dataDir), { recursive: true, force: true });
  });

  it('pulls a queue from 0 to its end in batches, chained by next_offset', async () => {
    const ids = await sendAll(producer!, 'pl-orders', ['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    const address = broker!.grpcAddress;
    const got: PullAnswer['messages'] = [];
    let offset = 0;
    const sizes: number[] = [];
    for (let round = 0; round < 10; round++) {
      const answer = await pull(address, pullRequest('pl-group', 'pl-orders', offset));
      if (answer.status.code === 'MESSAGE_NOT_FOUND') {
        expect(answer).toMatchObject({ messages: [], nextOffset: offset });
        break;
      }
      expect(answer.status.code).toBe('OK');
      sizes.push(answer.messages.length);
      got.push(...answer.messages);
      expect(answer.nextOffset).toBe(offset + answer.messages.length);
      offset = answer.nextOffset!;
    }
    expect(sizes).toEqual([3, 3, 1]);
    expect(offset).toBe(7);
    expect(got.map((m) => m.system_properties.message_id)).toEqual(ids);
    expect(got.map((m) => m.system_properties.queue_offset)).toEqual(['0', '1', '2', '3', '4', '5', '6']);
    expect(got[4]).toMatchObject({
      topic: { name: 'pl-orders' },
      body: Buffer.from('pl-orders 4'),
      system_properties: { tag: 'e', delivery_attempt: 1, body_encoding: 'IDENTITY', body_digest: { type: 'MD5' } },
    });
    expect(got[4].system_properties.receipt_handle ?? '').toBe(''); // pull consumers track offsets, not handles
    // pulling is stateless: the same offset gives the same messages again, for any group
    const again = await pull(address, pullRequest('pl-other-group', 'pl-orders', 2, { batch_size: 2 }));
    expect(again.messages.map((m) => m.system_properties.message_id)).toEqual(ids.slice(2, 4));
    expect(again.nextOffset).toBe(4);
  }, 15_000);

  it('filters by tag and moves next_offset past the messages filtered out', async () => {
    const ids = await sendAll(producer!, 'pl-tags', ['A', 'C', 'B', 'C', 'A', 'C', 'C']);
    const address = broker!.grpcAddress;
    const byTag = (offset: number, batch: number) =>
      pull(address, pullRequest('pl-group', 'pl-tags', offset, { batch_size: batch, filter_expression: { type: 'TAG', expression: 'A || B' } }));
    const first = await byTag(0, 2);
    expect(first.messages.map((m) => m.system_properties.tag)).toEqual(['A', 'B']);
    expect(first.nextOffset).toBe(3);
    const second = await byTag(first.nextOffset!, 5);
    expect(second.messages.map((m) => m.system_properties.message_id)).toEqual([ids[4]]);
    expect(second.nextOffset).toBe(7); // the trailing C messages are passed over
    const none = await byTag(5, 5);
    expect(none).toMatchObject({ status: { code: 'MESSAGE_NOT_FOUND' }, messages: [], nextOffset: 7 });
  }, 15_000);

  it('long-polls: a pull at the end of the queue returns as soon as a message arrives', async () => {
    const address = broker!.grpcAddress;
    const empty = Date.now();
    const nothing = await pull(address, pullRequest('pl-group', 'pl-longpoll', 0, { long_polling_timeout: duration(300) }));
    expect(nothing).toMatchObject({ status: { code: 'MESSAGE_NOT_FOUND', message: 'no new message' }, nextOffset: 0 });
    expect(Date.now() - empty).toBeGreaterThanOrEqual(250); // it waited for the polling time

    const started = Date.now();
    const pulling = pull(address, pullRequest('pl-group', 'pl-longpoll', 0, { long_polling_timeout: duration(10_000) }), 15_000);
    const sending = new Promise<string[]>((resolve, reject) => {
      setTimeout(() => sendAll(producer!, 'pl-longpoll', ['x']).then(resolve, reject), 300);
    });
    const [answer, ids] = await Promise.all([pulling, sending]);
    expect(answer.status.code).toBe('OK');
    expect(answer.messages.map((m) => m.system_properties.message_id)).toEqual(ids);
    expect(answer.nextOffset).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000);
  }, 20_000);

  it('stores offsets with UpdateOffset and reads them with GetOffset', async () => {
    const queue = { topic: { name: 'pl-orders' }, id: 0 };
    const get = (group: string) => raw!.call<OffsetReply>('GetOffset', { group: { name: group }, message_queue: queue });
    const update = (group: string, offset: number) =>
      raw!.call<StatusReply>('UpdateOffset', { group: { name: group }, message_queue: queue, offset: String(offset) });
    await expect(get('pl-never')).resolves.toMatchObject({
      status: { code: 'OFFSET_NOT_FOUND', message: expect.stringContaining('QueryOffset') },
    });
    await expect(update('pl-commit', 5)).resolves.toMatchObject({ status: { code: 'OK' } });
    await expect(get('pl-commit')).resolves.toMatchObject({ status: { code: 'OK' }, offset: '5' });
    await expect(update('pl-commit', 7)).resolves.toMatchObject({ status: { code: 'OK' } }); // max: all consumed
    await expect(get('pl-commit')).resolves.toMatchObject({ offset: '7' });
    await expect(update('pl-commit', 8)).resolves.toEqual({
      status: { code: 'ILLEGAL_OFFSET', message: 'Offset 8 is outside queue 0 of topic "pl-orders": valid offsets are 0..7' },
    });
    await expect(get('pl-commit')).resolves.toMatchObject({ offset: '7' });
  });

  it('refuses UpdateOffset while the group has POP messages in flight in the queue', async () => {
    const frames = await streamCall<PullFrame>(
      broker!.grpcAddress,
      'ReceiveMessage',
      {
        group: { name: 'pl-popper' },
        message_queue: { topic: { name: 'pl-orders' }, id: 0 },
        filter_expression: { type: 'TAG', expression: '*' },
        batch_size: 1,
        invisible_duration: duration(60_000),
        auto_renew: false,
        long_polling_timeout: duration(1_000),
      },
      4_000,
    );
    expect(frames[0].status?.code).toBe('OK');
    const reply = await raw!.call<StatusReply>('UpdateOffset', {
      group: { name: 'pl-popper' },
      message_queue: { topic: { name: 'pl-orders' }, id: 0 },
      offset: '3',
    });
    expect(reply.status).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('in flight') });
  });

  it('answers bad input in-band with the right code and keeps serving', async () => {
    const address = broker!.grpcAddress;
    const statusOf = async (extra: Record<string, unknown>, offset = 0) => (await pull(address, pullRequest('pl-group', 'pl-orders', offset, extra))).status;
    await expect(statusOf({ group: { name: 'bad group!' } })).resolves.toMatchObject({ code: 'ILLEGAL_CONSUMER_GROUP' });
    await expect(statusOf({ message_queue: { topic: { name: 'pl-nope' }, id: 0 } })).resolves.toMatchObject({ code: 'TOPIC_NOT_FOUND' });
    await expect(statusOf({ message_queue: { topic: { name: 'bad topic!' }, id: 0 } })).resolves.toMatchObject({ code: 'ILLEGAL_TOPIC' });
    await expect(statusOf({ message_queue: { topic: { name: 'pl-orders' }, id: 1 } })).resolves.toEqual({
      code: 'BAD_REQUEST',
      message: 'Topic "pl-orders" has queues 0..0; queue 1 does not exist',
    });
    await expect(statusOf({ batch_size: 0 })).resolves.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('batch_size') });
    await expect(statusOf({ filter_expression: { type: 'SQL', expression: 'a >' } })).resolves.toMatchObject({
      code: 'ILLEGAL_FILTER_EXPRESSION',
    });
    await expect(statusOf({ filter_expression: { type: 'TAG', expression: 'a||' } })).resolves.toMatchObject({
      code: 'ILLEGAL_FILTER_EXPRESSION',
    });
    await expect(statusOf({ offset: '-1' })).resolves.toMatchObject({ code: 'ILLEGAL_OFFSET' });
    const beyond = await pull(address, pullRequest('pl-group', 'pl-orders', 99));
    expect(beyond).toEqual({
      status: { code: 'ILLEGAL_OFFSET', message: 'Offset 99 is outside queue 0 of topic "pl-orders": valid offsets are 0..7' },
      messages: [],
      nextOffset: 7, // where to resume
    });
    const getUnknown = await raw!.call<OffsetReply>('GetOffset', { group: { name: 'pl-group' }, message_queue: { topic: { name: 'pl-nope' } } });
    expect(getUnknown.status.code).toBe('TOPIC_NOT_FOUND');
    const updateBadQueue = await raw!.call<StatusReply>('UpdateOffset', {
      group: { name: 'pl-group' },
      message_queue: { topic: { name: 'pl-orders' }, id: 3 },
      offset: '0',
    });
    expect(updateBadQueue.status.code).toBe('BAD_REQUEST');
    const updateBadGroup = await raw!.call<StatusReply>('UpdateOffset', {
      group: { name: '' },
      message_queue: { topic: { name: 'pl-orders' }, id: 0 },
      offset: '0',
    });
    expect(updateBadGroup.status.code).toBe('ILLEGAL_CONSUMER_GROUP');
    // still serving
    const ok = await pull(address, pullRequest('pl-group', 'pl-orders', 6));
    expect(ok).toMatchObject({ status: { code: 'OK' }, nextOffset: 7 });
  }, 15_000);
});

describe('committed pull offsets across a broker restart on the same data directory', () => {
  let dataDir: string;
  let broker: RunningBroker | undefined;
  let raw: RawV2Client | undefined;

  beforeAll(async () => {
    dataDir = await newDataDir();
  });

  afterAll(async () => {
    raw?.close();
    await broker?.stop();
    if (dataDir !== undefined) await rm(path.dirname(dataDir), { recursive: true, force: true });
  });

  it('GetOffset returns what UpdateOffset committed before the restart', async () => {
    broker = await startOn(dataDir);
    await createTopics(broker, ['pl-restart']);
    const producer = new Producer({ endpoints: broker.grpcAddress, namespace: '', topics: ['pl-restart'], sslEnabled: false, logger: quietClientLogger });
    await producer.startup();
    try {
      await sendAll(producer, 'pl-restart', ['t', 't', 't', 't']);
    } finally {
      await producer.shutdown();
    }
    const queue = { topic: { name: 'pl-restart' }, id: 0 };
    raw = createRawV2Client(broker.grpcAddress);
    const committed = await raw.call<StatusReply>('UpdateOffset', { group: { name: 'pl-restart-group' }, message_queue: queue, offset: '3' });
    expect(committed.status.code).toBe('OK');
    raw.close();
    await broker.stop();

    broker = await startOn(dataDir);
    raw = createRawV2Client(broker.grpcAddress);
    const reply = await raw.call<OffsetReply>('GetOffset', { group: { name: 'pl-restart-group' }, message_queue: queue });
    expect(reply).toMatchObject({ status: { code: 'OK' }, offset: '3' });
    const resumed = await pull(broker.grpcAddress, pullRequest('pl-restart-group', 'pl-restart', Number(reply.offset), { batch_size: 10 }));
    expect(resumed.messages.map((m) => m.system_properties.queue_offset)).toEqual(['3']);
    expect(resumed.nextOffset).toBe(4);
  }, 25_000);
});
