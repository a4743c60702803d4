import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConsumeResult, Producer, PushConsumer, SimpleConsumer, type MessageView } from 'rocketmq-client-nodejs';
import { createBrokerAdminClient, createNameServerClient } from '@apogee/protocol';
import { spawnService, waitFor, type SpawnedService } from '@apogee/testing';
import { stopProcess } from './registration-fixture';
import { quietClientLogger, shutdownClients } from './standalone-broker';

// A topic on two broker processes registered with one nameserver process. The official Node
// consumers are given ONE access point (broker A); the route it answers (the nameserver's view)
// names both brokers, so they receive from both, and each of two groups gets every message.

// The PushConsumer's consume service opens its own file logger otherwise (see messaging-push-consumer.spec.ts).
jest.mock('rocketmq-client-nodejs/dist/client/Logger', () => ({
  getDefaultLogger: () => ({ info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined }),
}));
jest.setTimeout(20_000);

const COUNT = 16;
const INVISIBLE_MS = 10_000;

describe('a topic on two brokers, consumed through one access point', () => {
  let dir = '';
  const processes: SpawnedService[] = [];
  const clients: { shutdown(): Promise<void> }[] = [];
  let a: SpawnedService;
  let b: SpawnedService;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'apogee-broker-two-'));
    const ns = await spawnService({ app: 'nameserver' });
    processes.push(ns);
    [a, b] = await Promise.all(
      ['broker-a', 'broker-b'].map((name) =>
        spawnService({
          app: 'broker',
          args: [
            ...['--nameservers', ns.grpcAddress, '--broker-name', name, '--data-dir', path.join(dir, name)],
            ...['--auto-create-groups', '--push-long-polling-timeout-ms', '1000'],
          ],
        }),
      ),
    );
    processes.push(a, b);
    for (const broker of [a, b]) {
      const admin = createBrokerAdminClient(broker.grpcAddress);
      try {
        for (const topic of ['tb-simple', 'tb-push']) {
          await admin.call('CreateTopic', { name: topic, read_queue_count: 2, write_queue_count: 2, message_type: 'NORMAL' });
        }
      } finally {
        admin.close();
      }
    }
    const nsClient = createNameServerClient(ns.grpcAddress, { timeoutMs: 2_000 });
    try {
      for (const topic of ['tb-simple', 'tb-push']) {
        await waitFor(async () => (await nsClient.queryRoute(topic)).brokers.length === 2, { what: `${topic} on both brokers` });
      }
    } finally {
      nsClient.close();
    }
  });

  afterAll(async () => {
    await shutdownClients(clients.reverse());
    for (const service of processes.reverse()) await stopProcess(service);
    await rm(dir, { recursive: true, force: true });
  });

  /** Sends COUNT messages through broker A; checks both brokers got some. Returns the ids. */
  const sendToBoth = async (topic: string): Promise<string[]> => {
    const producer = new Producer({ endpoints: a.grpcAddress, namespace: '', topics: [topic], sslEnabled: false, logger: quietClientLogger });
    await producer.startup();
    clients.push(producer);
    const ids: string[] = [];
    const brokers = new Set<string>();
    for (let i = 0; i < COUNT; i++) {
      const receipt = await producer.send({ topic, tag: 't', body: Buffer.from(`${topic} ${i}`) });
      ids.push(receipt.messageId);
      brokers.add(receipt.messageQueue.broker.name);
    }
    expect([...brokers].sort()).toEqual(['broker-a', 'broker-b']);
    return ids;
  };

  it('SimpleConsumers of two groups each receive the messages of both brokers', async () => {
    const ids = await sendToBoth('tb-simple');
    const receiveAll = async (group: string): Promise<MessageView[]> => {
      const consumer = new SimpleConsumer({
        consumerGroup: group,
        endpoints: a.grpcAddress,
        namespace: '',
        subscriptions: new Map([['tb-simple', '*']]),
        awaitDuration: 500,
        sslEnabled: false,
        logger: quietClientLogger,
      });
      await consumer.startup();
      clients.push(consumer);
      const got = new Map<string, MessageView>();
      await waitFor(
        async () => {
          for (const message of await consumer.receive(32, INVISIBLE_MS)) {
            got.set(message.messageId, message);
            await consumer.ack(message);
          }
          return got.size >= ids.length;
        },
        { timeoutMs: 10_000, intervalMs: 0, what: `all ${COUNT} messages for ${group}` },
      );
      return [...got.values()];
    };
    const [one, two] = await Promise.all([receiveAll('tb-simple-1'), receiveAll('tb-simple-2')]);
    for (const got of [one, two]) {
      expect(got.map((m) => m.messageId).sort()).toEqual([...ids].sort());
      expect(new Set(got.map((m) => m.endpoints.facade))).toEqual(new Set([a.grpcAddress, b.grpcAddress]));
    }
  });

  it('PushConsumers of two groups each receive the messages of both brokers', async () => {
    const received = new Map<string, string[]>([
      ['tb-push-1', []],
      ['tb-push-2', []],
    ]);
    const sources = new Set<string>();
    for (const group of received.keys()) {
      const consumer = new PushConsumer({
        consumerGroup: group,
        endpoints: a.grpcAddress,
        namespace: '',
        subscriptions: new Map([['tb-push', '*']]),
        messageListener: {
          consume: (message: MessageView) => {
            received.get(group)!.push(message.messageId);
            sources.add(message.endpoints.facade);
            return ConsumeResult.SUCCESS;
          },
        },
        sslEnabled: false,
        logger: quietClientLogger,
      });
      clients.push(consumer);
      await consumer.startup();
    }
    const ids = await sendToBoth('tb-push');
    await waitFor(() => [...received.values()].every((got) => ids.every((id) => got.includes(id))), {
      timeoutMs: 10_000,
      what: `all ${COUNT} messages in both push groups`,
    });
    for (const got of received.values()) expect([...got].sort()).toEqual([...ids].sort());
    expect(sources).toEqual(new Set([a.grpcAddress, b.grpcAddress]));
  });
});
