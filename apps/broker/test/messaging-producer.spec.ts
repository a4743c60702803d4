import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Producer } from 'rocketmq-client-nodejs';
import { checkHealth, createBrokerAdminClient, MESSAGING_SERVICE_NAME } from '@apogee/protocol';
import type { StoredMessage } from '@apogee/storage';
import type { BrokerConfig } from '../src/config';
import { openBrokerStore } from '../src/open-store';
import { startBroker, type RunningBroker } from '../src/start-broker';
import { silentLogger } from './metadata-fixture';
import { createRawV2Client, wireMessage, type RawV2Client } from './v2-raw-client';
import { quietClientLogger, shutdownClients, standaloneConfig } from './standalone-broker';

// The official RocketMQ 5 Node client (rocketmq-client-nodejs) producing to a broker started
// in-process on free ports: route, telemetry Settings handshake, sends, errors, shutdown.
const MAX_BODY_BYTES = 16 * 1024;
/** Ids of the messages the first suite expects in the store of its broker. */
const sent: string[] = [];

interface Started {
  broker: RunningBroker;
  config: BrokerConfig;
  dataDir: string;
}

async function start(overrides: Partial<BrokerConfig>): Promise<Started> {
  const dataDir = path.join(await mkdtemp(path.join(tmpdir(), 'apogee-broker-v2-')), 'data');
  const config = standaloneConfig(dataDir, overrides);
  return { broker: await startBroker(config, { logger: silentLogger }), config, dataDir };
}

async function stop(started: Started | undefined): Promise<void> {
  if (started === undefined) return;
  await started.broker.stop();
  await rm(path.dirname(started.dataDir), { recursive: true, force: true });
}

/** Every message of `topic` in the (closed) broker's store, read by reopening it. */
async function storedMessages(started: Started, topic: string, queueCount = 8): Promise<StoredMessage[]> {
  const store = await openBrokerStore(started.config, silentLogger);
  try {
    const out: StoredMessage[] = [];
    for (let queueId = 0; queueId < queueCount; queueId++) {
      out.push(...store.readQueue(topic, queueId, 0, 1_000).map((m) => ({ ...m, body: Buffer.from(m.body) })));
    }
    return out;
  } finally {
    await store.close();
  }
}

function producerFor(broker: RunningBroker, topics: string[]): Producer {
  return new Producer({ endpoints: broker.grpcAddress, namespace: '', topics, sslEnabled: false, logger: quietClientLogger });
}

describe('MessagingService with the official Node producer (auto-create on)', () => {
  let started: Started | undefined;
  let producer: Producer | undefined;
  let raw: RawV2Client | undefined;

  beforeAll(async () => {
    started = await start({ autoCreateTopics: true, maxBodyBytes: MAX_BODY_BYTES });
    const admin = createBrokerAdminClient(started.broker.grpcAddress);
    try {
      await admin.call('CreateTopic', { name: 'fifo-orders', read_queue_count: 4, write_queue_count: 4, message_type: 'FIFO' });
    } finally {
      admin.close();
    }
    producer = producerFor(started.broker, ['orders', 'fifo-orders']);
    await producer.startup();
    raw = createRawV2Client(started.broker.grpcAddress);
  }, 15_000);

  afterAll(async () => {
    raw?.close();
    await shutdownClients([producer]);
    await stop(started);
  });

  it('is served, with its own health status', async () => {
    await expect(checkHealth(started!.broker.grpcAddress, { service: MESSAGING_SERVICE_NAME })).resolves.toBe('SERVING');
  });

  it('answers QueryRoute with this broker, queue 0 READ_WRITE and the topic type', async () => {
    const [host, port] = started!.broker.grpcAddress.split(':');
    const route = await raw!.call<{ status: { code: string }; message_queues: Record<string, unknown>[] }>('QueryRoute', {
      topic: { name: 'fifo-orders' },
    });
    expect(route.status.code).toBe('OK');
    expect(route.message_queues).toHaveLength(4);
    expect(route.message_queues[0]).toMatchObject({
      topic: { name: 'fifo-orders' },
      id: 0,
      permission: 'READ_WRITE',
      accept_message_types: ['FIFO'],
      broker: { name: 'broker-a', id: 0, endpoints: { scheme: 'IPv4', addresses: [{ host, port: Number(port) }] } },
    });
  });

  it('stores normal messages with keys, tag and properties, and FIFO messages', async () => {
    const receipts = [];
    for (let i = 0; i < 3; i++) {
      receipts.push(
        await producer!.send({
          topic: 'orders',
          body: Buffer.from(`order ${i}`),
          tag: 'created',
          keys: [`order-${i}`, 'batch-1'],
          properties: new Map([['region', 'eu']]),
        }),
      );
    }
    for (const receipt of receipts) expect(receipt.messageId).toMatch(/^[0-9A-F]{34}$/);
    const fifo = await producer!.send({ topic: 'fifo-orders', body: Buffer.from('fifo'), messageGroup: 'customer-7' });
    expect(fifo.messageId).toMatch(/^[0-9A-F]{34}$/);
    // the batch test below and the store check after stop() read these
    sent.push(...receipts.map((r) => r.messageId));
  });

  it('refuses a NORMAL message for a FIFO topic, in the client (route types) and on the broker', async () => {
    await expect(producer!.send({ topic: 'fifo-orders', body: Buffer.from('x') })).rejects.toThrow(
      /message type not match.*acceptMessageTypes/i,
    );
    const response = await raw!.call<{ status: { code: string; message: string } }>('SendMessage', {
      messages: [wireMessage('fifo-orders', 'A1', Buffer.from('x'))],
    });
    expect(response.status.code).toBe('MESSAGE_PROPERTY_CONFLICT_WITH_TYPE');
    expect(response.status.message).toMatch(/accepts FIFO messages, but this message is NORMAL/);
  });

  it('refuses an oversize body, in the client (Settings max_body_size) and on the broker', async () => {
    const big = Buffer.alloc(MAX_BODY_BYTES + 1, 1);
    await expect(producer!.send({ topic: 'orders', body: big })).rejects.toThrow(/body size exceeds the threshold, max size=16384/);
    const response = await raw!.call<{ status: { code: string; message: string } }>('SendMessage', {
      messages: [wireMessage('orders', 'A2', big)],
    });
    expect(response.status).toEqual({ code: 'MESSAGE_BODY_TOO_LARGE', message: expect.stringMatching(/at most 16384 bytes/) });
  });

  it('stores a batch in one queue and answers one entry per message, failures per entry', async () => {
    const batch = await raw!.call<{ status: { code: string }; entries: { status: { code: string }; message_id: string; offset: string }[] }>(
      'SendMessage',
      { messages: ['B1', 'B2', 'B3'].map((id) => wireMessage('orders', id, Buffer.from(id))) },
    );
    expect(batch.status.code).toBe('OK');
    expect(batch.entries.map((e) => [e.status.code, e.message_id])).toEqual([['OK', 'B1'], ['OK', 'B2'], ['OK', 'B3']]);
    const offsets = batch.entries.map((e) => Number(e.offset));
    expect(offsets).toEqual([offsets[0], offsets[0] + 1, offsets[0] + 2]);
    sent.push('B1', 'B2', 'B3');

    const mixed = await raw!.call<{ status: { code: string }; entries: { status: { code: string; message: string } }[] }>(
      'SendMessage',
      {
        messages: [
          wireMessage('orders', 'C1', Buffer.from('ok')),
          wireMessage('orders', 'C2', Buffer.from('bad'), { user_properties: { UNIQ_KEY: 'x' } }),
          wireMessage('orders', '', Buffer.from('no id')),
          wireMessage('orders', 'C4', Buffer.alloc(0)),
        ],
      },
    );
    expect(mixed.status.code).toBe('MULTIPLE_RESULTS');
    expect(mixed.entries.map((e) => e.status.code)).toEqual([
      'OK',
      'ILLEGAL_MESSAGE_PROPERTY_KEY',
      'ILLEGAL_MESSAGE_ID',
      'MESSAGE_BODY_EMPTY',
    ]);
    expect(mixed.entries[1].status.message).toMatch(/"UNIQ_KEY", a name reserved/);
    sent.push('C1');
  });

  it('answers Telemetry Settings per client type and keeps the stream open', async () => {
    const stream = raw!.telemetry();
    const settings = (clientType: string, extra: object) => ({
      settings: { client_type: clientType, request_timeout: { seconds: '3', nanos: 0 }, ...extra },
    });
    stream.write(settings('PUSH_CONSUMER', { subscription: { group: { name: 'g1' }, subscriptions: [] } }));
    const push = await stream.next();
    expect(push.status).toEqual({ code: 'OK', message: 'OK' });
    expect(push.settings).toMatchObject({
      client_type: 'PUSH_CONSUMER',
      backoff_policy: { max_attempts: 17, exponential_backoff: { initial: { seconds: '5' }, multiplier: 2 } },
      subscription: { fifo: false, receive_batch_size: 32, long_polling_timeout: { seconds: '20' } },
      metric: { on: false },
    });
    stream.write(settings('PRODUCER', { publishing: { topics: [{ name: 'orders' }] } }));
    const producerAnswer = await stream.next();
    expect(producerAnswer.settings).toMatchObject({
      backoff_policy: { max_attempts: 3, exponential_backoff: { initial: { seconds: '1' }, max: { seconds: '10' } } },
      publishing: { topics: [{ name: 'orders' }], max_body_size: MAX_BODY_BYTES, validate_message_type: true },
    });
    stream.write(settings('PULL_CONSUMER', {}));
    expect((await stream.next()).status?.code).toBe('UNRECOGNIZED_CLIENT_TYPE');
    await stream.close();
  });

  it('answers Heartbeat and NotifyClientTermination with OK', async () => {
    await expect(raw!.call('Heartbeat', { client_type: 'PRODUCER' })).resolves.toEqual({ status: { code: 'OK', message: 'OK' } });
    await expect(raw!.call('NotifyClientTermination', {})).resolves.toEqual({ status: { code: 'OK', message: 'OK' } });
  });

  it('keeps every accepted message in the store, with what the producer sent', async () => {
    await producer!.shutdown();
    producer = undefined;
    await started!.broker.stop();
    const stored = await storedMessages(started!, 'orders');
    expect(stored.map((m) => m.messageId).sort()).toEqual([...sent].sort());
    const first = stored.find((m) => m.messageId === sent[0])!;
    expect(first).toMatchObject({ tag: 'created', keys: ['order-0', 'batch-1'], properties: { region: 'eu' } });
    expect(first.body.toString()).toBe('order 0');
    expect(first.bornHost).not.toBe('');
    expect(Math.abs(first.bornTimestampMs - Date.now())).toBeLessThan(60_000);
    const fifo = await storedMessages(started!, 'fifo-orders', 4);
    expect(fifo).toHaveLength(1);
    expect(fifo[0].properties).toMatchObject({ __SHARDINGKEY: 'customer-7' });
  });
});

describe('MessagingService with auto-create off', () => {
  let started: Started | undefined;
  let producer: Producer | undefined;

  beforeAll(async () => {
    started = await start({ autoCreateTopics: false });
    producer = producerFor(started.broker, []);
    await producer.startup();
  });

  afterAll(async () => {
    await shutdownClients([producer]);
    await stop(started);
  });

  it('fails a send to an unknown topic with the broker\'s TOPIC_NOT_FOUND', async () => {
    await expect(producer!.send({ topic: 'nowhere', body: Buffer.from('x') })).rejects.toThrow(
      /Topic "nowhere" does not exist; create it first/,
    );
  });
});
