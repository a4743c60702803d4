import { Producer } from 'rocketmq-client-nodejs';
import { cli, closedAddress } from './cli-harness';
import { BROKER_NAME, CLUSTER_NAME, startTestCluster, type TestCluster } from './cluster-fixture';

// Every verb against a real nameserver and broker on free loopback ports, through runCli.
let cluster: TestCluster;
let ns: string[];

// Spawning two services can take longer than jest's 5 s default under load; the fixture has its own limits.
beforeAll(async () => {
  cluster = await startTestCluster();
  ns = ['--nameserver', cluster.nameserver];
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

// The --json documents are checked field by field below; their static type adds nothing.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonDocument = Record<string, any>;
const parse = (stdout: string): JsonDocument => JSON.parse(stdout) as JsonDocument;

describe('apogee cluster status', () => {
  it('lists the broker with its role, address and heartbeat age', async () => {
    const { code, stdout, stderr } = await cli(['cluster', 'status', ...ns]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const [header, row] = stdout.trimEnd().split('\n');
    expect(header).toMatch(/^CLUSTER\s+BROKER\s+ID\s+ROLE\s+ADDRESS\s+LAST HEARTBEAT\s+EPOCH\s+LOG END\s+LAG$/);
    // A lone master: epoch 0, its log end, no replica connected.
    expect(row).toMatch(new RegExp(`^${CLUSTER_NAME}\\s+${BROKER_NAME}\\s+0\\s+MASTER\\s+${cluster.broker}\\s+.*ago\\s+0\\s+\\d+\\s+in-sync 0/0$`));
  });

  it('prints one JSON document with --json', async () => {
    const { code, stdout } = await cli(['cluster', 'status', '--json', ...ns]);
    expect(code).toBe(0);
    const replica = parse(stdout).clusters[0].brokerGroups[0].replicas[0];
    expect(replica).toMatchObject({ brokerId: 0, role: 'MASTER', address: cluster.broker });
    expect(replica.lastHeartbeatAgeMs).toBeGreaterThanOrEqual(0);
    expect(replica.replication).toMatchObject({ role: 'MASTER', epoch: 0, connectedReplicas: 0, inSyncReplicas: 0, replicas: [] });
  });
});

describe('apogee topic create / route / list', () => {
  it('creates a topic on every master and reports each broker', async () => {
    const { code, stdout, stderr } = await cli(['topic', 'create', 'orders', '--type', 'fifo', '--queues', '4', ...ns]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain(`Topic orders (FIFO, 4 queues per broker) in cluster ${CLUSTER_NAME}:`);
    expect(stdout).toMatch(new RegExp(`${BROKER_NAME}\\s+${cluster.broker}\\s+created`));
  });

  it('is safe to run again, and refuses other settings for an existing topic', async () => {
    const again = await cli(['topic', 'create', 'orders', '--type', 'FIFO', '--json', ...ns]);
    expect(again.code).toBe(0);
    expect(parse(again.stdout)).toMatchObject({ ok: true, brokers: [{ brokerName: BROKER_NAME, result: 'exists' }] });

    const other = await cli(['topic', 'create', 'orders', '--type', 'NORMAL', ...ns]);
    expect(other.code).toBe(1);
    expect(other.stdout).toContain('FAILED');
    expect(other.stdout).toContain('already exists with other settings: FIFO, 4 read / 4 write queues');
    expect(other.stderr).toBe('error: creating topic orders failed on 1 of 1 broker\n');
  });

  it('reports the created topic as JSON', async () => {
    const { code, stdout } = await cli(['topic', 'create', 'payments', '--type', 'TRANSACTION', '--json', ...ns]);
    expect(code).toBe(0);
    expect(parse(stdout)).toEqual({
      topic: 'payments',
      messageType: 'TRANSACTION',
      queues: 8,
      cluster: CLUSTER_NAME,
      ok: true,
      brokers: [
        {
          brokerName: BROKER_NAME,
          address: cluster.broker,
          result: 'created',
          value: { name: 'payments', messageType: 'TRANSACTION', readQueueCount: 8, writeQueueCount: 8, permission: 'READ_WRITE' },
        },
      ],
    });
  });

  it('shows the route: queues per broker with permission, types and address', async () => {
    await cluster.syncRoutes('orders');
    const { code, stdout } = await cli(['topic', 'route', 'orders', ...ns]);
    expect(code).toBe(0);
    expect(stdout).toContain('Topic orders: 4 queues on 1 broker');
    expect(stdout).toMatch(new RegExp(`${BROKER_NAME}\\s+0\\s+${cluster.broker}\\s+0-3\\s+READ_WRITE\\s+FIFO`));

    const json = parse((await cli(['topic', 'route', 'orders', '--json', ...ns])).stdout);
    expect(json.brokers).toEqual([{ brokerName: BROKER_NAME, brokerId: 0, address: cluster.broker }]);
    expect(json.queues).toHaveLength(4);
    expect(json.queues[0]).toEqual({ brokerName: BROKER_NAME, queueId: 0, permission: 'READ_WRITE', acceptMessageTypes: ['FIFO'] });
  });

  it('lists topics', async () => {
    await cluster.syncRoutes('payments');
    const { code, stdout } = await cli(['topic', 'list', ...ns]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^TOPIC\s+KIND$/m);
    expect(stdout).toMatch(/^orders\s+topic$/m);
    expect(parse((await cli(['topic', 'list', '--json', ...ns])).stdout).topics).toEqual(expect.arrayContaining(['orders', 'payments']));
  });

  it('exits 1 with a helpful message for a topic without a route', async () => {
    const { code, stdout, stderr } = await cli(['topic', 'route', 'no-such-topic', ...ns]);
    expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
    expect(stderr).toContain(`error: nameserver at ${cluster.nameserver}: Topic "no-such-topic" has no route`);
    expect(stderr).toContain('hint: Create it with `apogee topic create no-such-topic --type NORMAL`');

    const json = await cli(['topic', 'route', 'no-such-topic', '--json', ...ns]);
    expect(json.code).toBe(1);
    expect(parse(json.stdout).error).toMatchObject({ grpcStatus: 'NOT_FOUND', apogeeCode: 'NOT_FOUND', exitCode: 1 });
  });

  it('exits 2 for a bad --type, before calling any server', async () => {
    const { code, stdout, stderr } = await cli(['topic', 'create', 'orders', '--type', 'URGENT', ...ns]);
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr).toBe(
      'error: --type "URGENT" is invalid; allowed: NORMAL, FIFO, DELAY, TRANSACTION\n' +
        "hint: Run 'apogee topic create --help' for usage.\n",
    );
  });

  it('exits 1 for an unknown --cluster, naming the known ones', async () => {
    const { code, stderr } = await cli(['topic', 'create', 'orders', '--type', 'FIFO', '--cluster', 'Elsewhere', ...ns]);
    expect(code).toBe(1);
    expect(stderr).toContain(`cluster "Elsewhere" is unknown to the nameserver at ${cluster.nameserver}; known: ${CLUSTER_NAME}`);
  });
});

describe('apogee group create', () => {
  it('creates a group on every master, and is safe to run again', async () => {
    const created = await cli(['group', 'create', 'billing', '--fifo', 'true', '--max-attempts', '5', ...ns]);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain(`Group billing (fifo true, max attempts 5) in cluster ${CLUSTER_NAME}:`);
    expect(created.stdout).toMatch(new RegExp(`${BROKER_NAME}\\s+${cluster.broker}\\s+created`));

    const again = await cli(['group', 'create', 'billing', '--json', ...ns]);
    expect(again.code).toBe(0);
    expect(parse(again.stdout).brokers[0]).toMatchObject({
      result: 'exists',
      value: { name: 'billing', fifo: true, maxDeliveryAttempts: 5 },
    });

    const other = await cli(['group', 'create', 'billing', '--fifo', 'false', ...ns]);
    expect(other.code).toBe(1);
    expect(other.stdout).toContain('already exists with other settings: fifo true, max attempts 5');
  });

  it('passes the broker refusal on with exit 1', async () => {
    const { code, stdout } = await cli(['group', 'create', 'big', '--max-attempts', '100000', ...ns]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/FAILED/);
    expect(stdout).toContain('hint: Fix the value the message names and run the command again.');
  });

  it('creates a broadcast group with --broadcast true', async () => {
    const created = await cli(['group', 'create', 'fanout', '--broadcast', 'true', '--json', ...ns]);
    expect(created.code).toBe(0);
    expect(parse(created.stdout).brokers[0]).toMatchObject({ result: 'created', value: { name: 'fanout', broadcast: true, fifo: false } });

    const again = await cli(['group', 'create', 'fanout', '--broadcast', 'true', ...ns]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`Group fanout (fifo false, max attempts default, broadcast) in cluster ${CLUSTER_NAME}:`);
    expect(again.stdout).toMatch(new RegExp(`${BROKER_NAME}\\s+${cluster.broker}\\s+exists`));

    const clustering = await cli(['group', 'create', 'fanout', '--broadcast', 'false', ...ns]);
    expect(clustering.code).toBe(1);
    expect(clustering.stdout).toContain('already exists with other settings: fifo false, max attempts 17, broadcast true');

    const bad = await cli(['group', 'create', 'fanout', '--broadcast', 'maybe', ...ns]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--broadcast "maybe" is invalid; allowed: true or false');
  });

  it('exits 2 for --fifo maybe', async () => {
    const { code, stderr } = await cli(['group', 'create', 'billing', '--fifo', 'maybe', ...ns]);
    expect(code).toBe(2);
    expect(stderr).toContain('--fifo "maybe" is invalid; allowed: true or false');
  });
});

describe('apogee group reset-offset', () => {
  const sum = (queues: JsonDocument[], field: string): number => queues.reduce((total, q) => total + (q[field] as number), 0);

  beforeAll(async () => {
    expect((await cli(['topic', 'create', 'audit', '--type', 'NORMAL', '--queues', '2', ...ns])).code).toBe(0);
    expect((await cli(['group', 'create', 'replay', ...ns])).code).toBe(0);
    await cluster.syncRoutes('audit');
    const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
    const producer = new Producer({ endpoints: cluster.broker, namespace: '', topics: ['audit'], sslEnabled: false, logger: quiet });
    await producer.startup();
    try {
      for (let i = 0; i < 3; i++) await producer.send({ topic: 'audit', tag: 'T', body: Buffer.from(`audit ${i}`) });
    } finally {
      await producer.shutdown();
    }
  }, 30_000);

  it('moves the group on every queue of the topic and prints old → new per queue', async () => {
    const first = await cli(['group', 'reset-offset', 'replay', '--topic', 'audit', '--to', 'latest', ...ns]);
    expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: '' });
    expect(first.stdout).toContain('Group replay on topic audit: reset to the latest offset');
    expect(first.stdout).toMatch(/^BROKER\s+QUEUE\s+COMMITTED OFFSET\s+IN-FLIGHT DROPPED$/m);
    expect(first.stdout).toMatch(new RegExp(`^${BROKER_NAME}\\s+1\\s+- → \\d\\s+0$`, 'm'));

    const json = await cli(['group', 'reset-offset', 'replay', '--topic', 'audit', '--to', 'EARLIEST', '--json', ...ns]);
    expect(json.code).toBe(0);
    const doc = parse(json.stdout);
    expect(doc).toMatchObject({ group: 'replay', topic: 'audit', to: { kind: 'earliest' }, ok: true });
    expect(doc.brokers).toHaveLength(1);
    expect(doc.brokers[0]).toMatchObject({ brokerName: BROKER_NAME, address: cluster.broker, result: 'reset', futureTimestamp: false });
    expect(doc.brokers[0].queues.map((q: JsonDocument) => q.queueId)).toEqual([0, 1]);
    expect({ old: sum(doc.brokers[0].queues, 'oldCommittedOffset'), new: sum(doc.brokers[0].queues, 'newOffset') }).toEqual({ old: 3, new: 0 });
  });

  it('resets to a time, and says when the time is in the future', async () => {
    const past = await cli(['group', 'reset-offset', 'replay', '--topic', 'audit', '--to', '2020-01-01T00:00:00Z', '--json', ...ns]);
    expect(past.code).toBe(0);
    expect(parse(past.stdout)).toMatchObject({ to: { kind: 'time', timestamp: '2020-01-01T00:00:00.000Z' } });
    expect(sum(parse(past.stdout).brokers[0].queues, 'newOffset')).toBe(0); // every message is newer

    const future = await cli(['group', 'reset-offset', 'replay', '--topic', 'audit', '--to', '2999-01-01', ...ns]);
    expect(future.code).toBe(0);
    expect(future.stdout).toContain(`note: the time is after ${BROKER_NAME}'s clock, so it reset to the latest offset`);
  });

  it('exits 1 for an unknown group or topic, and 2 for a bad time', async () => {
    const group = await cli(['group', 'reset-offset', 'nobody', '--topic', 'audit', '--to', 'latest', '--json', ...ns]);
    expect(group.code).toBe(1);
    expect(group.stderr).toBe('error: resetting group nobody failed on 1 of 1 broker\n');
    expect(parse(group.stdout)).toMatchObject({
      ok: false,
      brokers: [{ result: 'failed', error: { grpcStatus: 'NOT_FOUND', apogeeCode: 'GROUP_NOT_FOUND', hint: expect.stringContaining('apogee group create nobody') } }],
    });

    const topic = await cli(['group', 'reset-offset', 'replay', '--topic', 'no-such-topic', '--to', 'latest', '--json', ...ns]);
    expect(topic.code).toBe(1);
    expect(parse(topic.stdout).error).toMatchObject({ grpcStatus: 'NOT_FOUND', exitCode: 1 });

    const time = await cli(['group', 'reset-offset', 'replay', '--topic', 'audit', '--to', 'yesterday', ...ns]);
    expect({ code: time.code, stdout: time.stdout }).toEqual({ code: 2, stdout: '' });
    expect(time.stderr).toContain('error: --to "yesterday" is invalid; allowed: earliest, latest, or an ISO 8601 time');
  });
});

describe('connection failures', () => {
  it('exits 1 and says how to reach a nameserver', async () => {
    const address = await closedAddress();
    const { code, stderr } = await cli(['cluster', 'status', '--nameserver', address]);
    expect(code).toBe(1);
    expect(stderr).toContain(`error: cannot reach the nameserver at ${address}`);
    expect(stderr).toContain('hint: Check that a nameserver runs at');
  });
});
