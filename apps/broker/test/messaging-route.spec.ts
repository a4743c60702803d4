import { Producer } from 'rocketmq-client-nodejs';
import { waitFor } from '@apogee/testing';
import { useRegistrationCluster } from './registration-fixture';
import { createRawV2Client } from './v2-raw-client';
import { quietClientLogger } from './standalone-broker';

// QueryRoute from the nameservers' view: a topic on two brokers, reached by the official Node
// producer through one of them as its access point.
const cluster = useRegistrationCluster();
jest.setTimeout(20_000); // spawns a nameserver process


describe('QueryRoute with nameservers', () => {
  it('answers with every broker serving the topic, and the producer sends to both', async () => {
    const ns = await cluster.nameserver();
    const a = await cluster.broker([ns.grpcAddress], { brokerName: 'broker-a' });
    const b = await cluster.broker([ns.grpcAddress], { brokerName: 'broker-b' });
    for (const broker of [a, b]) {
      await broker.admin.call('CreateTopic', { name: 'spread', read_queue_count: 2, write_queue_count: 2, message_type: 'NORMAL' });
    }
    const nsClient = cluster.client(ns.grpcAddress);
    await waitFor(async () => (await nsClient.queryRoute('spread').catch(() => undefined))?.brokers.length === 2, {
      what: 'both brokers in the route',
    });

    const raw = createRawV2Client(a.service.grpcAddress);
    try {
      const route = await raw.call<{ status: { code: string }; message_queues: { id: number; permission: string; broker: { name: string; endpoints: { addresses: { port: number }[] } } }[] }>(
        'QueryRoute',
        { topic: { name: 'spread' } },
      );
      expect(route.status.code).toBe('OK');
      expect(route.message_queues.map((q) => `${q.broker.name}/${q.id}@${q.broker.endpoints.addresses[0].port}`)).toEqual([
        `broker-a/0@${a.service.grpcPort}`,
        `broker-a/1@${a.service.grpcPort}`,
        `broker-b/0@${b.service.grpcPort}`,
        `broker-b/1@${b.service.grpcPort}`,
      ]);
      expect(new Set(route.message_queues.map((q) => q.permission))).toEqual(new Set(['READ_WRITE']));
    } finally {
      raw.close();
    }

    const producer = new Producer({
      endpoints: a.service.grpcAddress,
      namespace: '',
      topics: ['spread'],
      sslEnabled: false,
      logger: quietClientLogger,
    });
    await producer.startup();
    try {
      const brokersUsed = new Set<string>();
      for (let i = 0; i < 4; i++) {
        const receipt = await producer.send({ topic: 'spread', body: Buffer.from(`m${i}`) });
        brokersUsed.add(receipt.messageQueue.broker.name);
      }
      expect([...brokersUsed].sort()).toEqual(['broker-a', 'broker-b']);
    } finally {
      await producer.shutdown();
    }
  });
});
