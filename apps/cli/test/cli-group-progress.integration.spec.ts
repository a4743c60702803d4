import { Producer, SimpleConsumer, type MessageView } from 'rocketmq-client-nodejs';
import { waitFor } from '@apogee/testing';
import { cli } from './cli-harness';
import { BROKER_NAME, startTestCluster, type TestCluster } from './cluster-fixture';

// `apogee group progress` against a real nameserver and broker (separate processes), with
// messages produced and partly consumed by the official Node client.
let cluster: TestCluster;
let ns: string[];

const TOPIC = 'lagging';
const GROUP = 'slow-readers';
const SENT = 12;
const ACKED = 5;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonDocument = Record<string, any>;
const parse = (stdout: string): JsonDocument => JSON.parse(stdout) as JsonDocument;

/** A SimpleConsumer of GROUP on TOPIC (not started). */
function groupConsumer(): SimpleConsumer {
  return new SimpleConsumer({
    consumerGroup: GROUP,
    endpoints: cluster.broker,
    namespace: '',
    subscriptions: new Map([[TOPIC, '*']]),
    awaitDuration: 1_000,
    sslEnabled: false,
    logger: quiet,
  });
}

beforeAll(async () => {
  cluster = await startTestCluster();
  ns = ['--nameserver', cluster.nameserver];
  expect((await cli(['topic', 'create', TOPIC, '--type', 'NORMAL', '--queues', '1', ...ns])).code).toBe(0);
  expect((await cli(['group', 'create', GROUP, ...ns])).code).toBe(0);
  expect((await cli(['group', 'create', 'idle-readers', ...ns])).code).toBe(0);
  await cluster.syncRoutes(TOPIC);
  const producer = new Producer({ endpoints: cluster.broker, namespace: '', topics: [TOPIC], sslEnabled: false, logger: quiet });
  await producer.startup();
  try {
    for (let i = 0; i < SENT; i++) await producer.send({ topic: TOPIC, tag: 'T', body: Buffer.from(`lagging ${i}`) });
  } finally {
    await producer.shutdown();
  }
  const consumer = groupConsumer();
  await consumer.startup();
  try {
    // Receive the first 8 (they stay in flight for a minute), ack the first 5 of them.
    const got: MessageView[] = [];
    await waitFor(
      async () => {
        got.push(...(await consumer.receive(8 - got.length, 60_000)));
        return got.length >= 8;
      },
      { timeoutMs: 10_000, intervalMs: 0, what: '8 messages' },
    );
    got.sort((a, b) => (a.offset ?? 0) - (b.offset ?? 0));
    for (const message of got.slice(0, ACKED)) await consumer.ack(message);
  } finally {
    await consumer.shutdown();
  }
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('apogee group progress', () => {
  it('prints the lag per queue with totals', async () => {
    const { code, stdout, stderr } = await cli(['group', 'progress', GROUP, ...ns]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain(`Group ${GROUP}: lag ${SENT - ACKED} messages, 3 in flight`);
    expect(stdout).toMatch(/^BROKER\s+TOPIC\s+QUEUE\s+COMMITTED\s+MAX\s+LAG\s+IN-FLIGHT\s+LAG-SECONDS$/m);
    expect(stdout).toMatch(new RegExp(`^${BROKER_NAME}\\s+${TOPIC}\\s+0\\s+${ACKED}\\s+${SENT}\\s+${SENT - ACKED}\\s+3\\s+\\d+\\.\\d$`, 'm'));
    expect(stdout).toMatch(new RegExp(`^TOTAL\\s+${SENT - ACKED}\\s+3\\s+\\d+\\.\\d$`, 'm'));
  });

  it('prints one JSON document with --json, also for one topic', async () => {
    const { code, stdout } = await cli(['group', 'progress', GROUP, '--topic', TOPIC, '--json', ...ns]);
    expect(code).toBe(0);
    const doc = parse(stdout);
    expect(doc).toMatchObject({ group: GROUP, topic: TOPIC, ok: true, totals: { lag: SENT - ACKED, inflight: 3 } });
    expect(doc.brokers).toEqual([
      {
        brokerName: BROKER_NAME,
        address: cluster.broker,
        result: 'read',
        queues: [
          {
            topic: TOPIC,
            queueId: 0,
            committedOffset: ACKED,
            nextOffset: 8,
            minOffset: 0,
            maxOffset: SENT,
            lag: SENT - ACKED,
            inflight: 3,
            lagSeconds: expect.any(Number),
            consumed: true,
          },
        ],
        consumers: [],
      },
    ]);
    expect(doc.brokers[0].queues[0].lagSeconds).toBeGreaterThan(0);
  });

  it('lists the consumers of the group connected now', async () => {
    const consumer = groupConsumer();
    await consumer.startup();
    try {
      const { code, stdout } = await cli(['group', 'progress', GROUP, '--json', ...ns]);
      expect(code).toBe(0);
      expect(parse(stdout).brokers[0].consumers).toEqual([
        { clientId: expect.any(String), clientType: 'SIMPLE_CONSUMER', lastSeenMs: expect.any(Number) },
      ]);
      const text = await cli(['group', 'progress', GROUP, ...ns]);
      expect(text.stdout).toMatch(new RegExp(`^Consumers connected to ${BROKER_NAME}: 1 — \\S+ \\(SIMPLE_CONSUMER\\)$`, 'm'));
    } finally {
      await consumer.shutdown();
    }
  });

  it('shows where a group that consumed nothing would start', async () => {
    const none = await cli(['group', 'progress', 'idle-readers', ...ns]);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('The group has not consumed anything yet');
    const onTopic = await cli(['group', 'progress', 'idle-readers', '--topic', TOPIC, '--json', ...ns]);
    expect(parse(onTopic.stdout).brokers[0].queues[0]).toMatchObject({ committedOffset: 0, lag: SENT, consumed: false });
  });

  it('exits 1 with a hint for an unknown group or topic, and 2 for a bad name', async () => {
    const group = await cli(['group', 'progress', 'nobody', ...ns]);
    expect(group.code).toBe(1);
    expect(group.stdout).toContain('FAILED');
    expect(group.stdout).toContain('hint: Create it with `apogee group create nobody`');
    expect(group.stderr).toBe('error: reading the progress of group nobody failed on 1 of 1 broker\n');

    const topic = await cli(['group', 'progress', GROUP, '--topic', 'no-such-topic', '--json', ...ns]);
    expect(topic.code).toBe(1);
    expect(parse(topic.stdout).error).toMatchObject({ grpcStatus: 'NOT_FOUND', exitCode: 1 });

    const bad = await cli(['group', 'progress', 'bad name!', ...ns]);
    expect({ code: bad.code, stdout: bad.stdout }).toEqual({ code: 2, stdout: '' });
  });

  it('has --help with an example', async () => {
    const { code, stdout } = await cli(['group', 'progress', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('apogee group progress billing --topic orders --json');
  });
});
