import { waitFor } from '@apogee/testing';
import { runCli } from '../src/run-cli';
import { cli, closedAddress } from './cli-harness';
import { BROKER_NAME, CLUSTER_NAME, startTestCluster, type TestCluster } from './cluster-fixture';

// The day-to-day verbs (topic update|delete|stats, group update|delete|list, message send|tail,
// broker config get|set) against one real nameserver and broker, each its own process.
let cluster: TestCluster;
let ns: string[];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonDocument = Record<string, any>;
const parse = (stdout: string): JsonDocument => JSON.parse(stdout) as JsonDocument;

beforeAll(async () => {
  cluster = await startTestCluster();
  ns = ['--nameserver', cluster.nameserver];
  expect((await cli(['topic', 'create', 'events', '--type', 'NORMAL', '--queues', '2', ...ns])).code).toBe(0);
  await cluster.syncRoutes('events');
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('apogee topic update / delete', () => {
  it('changes queues and permission on every master, and says what to do for an unknown topic', async () => {
    expect((await cli(['topic', 'create', 'shrinking', '--type', 'NORMAL', '--queues', '4', ...ns])).code).toBe(0);
    const { code, stdout, stderr } = await cli(['topic', 'update', 'shrinking', '--queues', '2', '--perm', 'r', ...ns]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain(`Topic shrinking (2 queues per broker, permission R) in cluster ${CLUSTER_NAME}:`);
    expect(stdout).toMatch(new RegExp(`^${BROKER_NAME}\\s+${cluster.broker}\\s+updated$`, 'm'));
    const json = await cli(['topic', 'update', 'shrinking', '--perm', 'RW', '--json', ...ns]);
    expect(parse(json.stdout)).toMatchObject({ ok: true, brokers: [{ result: 'updated', value: { readQueueCount: 2, writeQueueCount: 2, permission: 'READ_WRITE' } }] });

    const missing = await cli(['topic', 'update', 'no-such-topic', '--queues', '2', ...ns]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('hint: This broker has no topic no-such-topic: create it with `apogee topic create no-such-topic --type NORMAL`');
    expect(missing.stderr).toBe('error: updating topic no-such-topic failed on 1 of 1 broker\n');
    expect((await cli(['topic', 'update', 'shrinking', ...ns])).stderr).toContain('nothing to change; give --queues N and/or --perm R|W|RW');
  });

  it('deletes a topic, and a second delete exits 1 because no broker has it', async () => {
    const { code, stdout } = await cli(['topic', 'delete', 'shrinking', ...ns]);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^${BROKER_NAME}\\s+${cluster.broker}\\s+deleted$`, 'm'));
    const again = await cli(['topic', 'delete', 'shrinking', '--json', ...ns]);
    expect(again.code).toBe(1);
    expect(parse(again.stdout)).toMatchObject({ ok: false, brokers: [{ result: 'absent' }] });
    expect(again.stderr).toContain('no broker of the cluster has topic shrinking');
  });
});

describe('apogee group update / list / delete', () => {
  it('updates, lists and deletes a group', async () => {
    expect((await cli(['group', 'create', 'auditors', ...ns])).code).toBe(0);
    const update = await cli(['group', 'update', 'auditors', '--max-attempts', '3', '--fifo', 'true', ...ns]);
    expect(update.code).toBe(0);
    expect(update.stdout).toContain('Group auditors (fifo true, max attempts 3)');

    const list = await cli(['group', 'list', ...ns]);
    expect({ code: list.code, stderr: list.stderr }).toEqual({ code: 0, stderr: '' });
    expect(list.stdout).toMatch(/^GROUP\s+FIFO\s+MAX-ATTEMPTS\s+BROADCAST\s+BROKERS$/m);
    expect(list.stdout).toMatch(/^auditors\s+yes\s+3\s+no\s+all \(1\)$/m);
    const listed = parse((await cli(['group', 'list', '--json', ...ns])).stdout);
    expect(listed.groups).toContainEqual(expect.objectContaining({ name: 'auditors', fifo: true, maxDeliveryAttempts: 3, brokers: [BROKER_NAME] }));

    expect((await cli(['group', 'delete', 'auditors', ...ns])).code).toBe(0);
    const gone = await cli(['group', 'delete', 'auditors', ...ns]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('no broker of the cluster has group auditors; check the name (`apogee group list` lists them)');
    const missing = await cli(['group', 'update', 'auditors', '--max-attempts', '2', ...ns]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('create it with `apogee group create auditors`');
  });
});

describe('apogee message send / tail and topic stats', () => {
  it('follows new messages only, one line each, and stops after --count', async () => {
    expect((await cli(['message', 'send', '--topic', 'events', '--body', 'before the tail', '--endpoint', cluster.broker, ...ns])).code).toBe(0);
    let stdout = '';
    let stderr = '';
    const abort = new AbortController(); // ends the tail if an expectation fails before it has its 2 messages
    const io = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, signal: abort.signal };
    const tail = runCli(['message', 'tail', 'events', '--count', '2', ...ns], io);
    try {
      await waitFor(() => stderr.includes('Following topic events'), { what: 'the tail following', timeoutMs: 10_000 });
      const sent = await cli(['message', 'send', '--topic', 'events', '--tag', 'created', '--keys', 'k1,k2', '--body', 'first', '--endpoint', cluster.broker, '--json']);
      expect(sent.code).toBe(0);
      const { messageId } = parse(sent.stdout);
      expect(messageId).toMatch(/^[0-9A-F]{10,}$/i);
      expect((await cli(['message', 'send', '--topic', 'events', '--body', 'second', '--endpoint', cluster.broker])).stdout).toMatch(/^message id: \S+$/m);
      expect(await tail).toBe(0);
      const lines = stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\S+Z  ${BROKER_NAME} q\\d:\\d+  ${messageId}  tag=created  keys=k1,k2  "first"$`));
      expect(lines[1]).toContain('"second"');
      expect(stdout).not.toContain('before the tail');
    } finally {
      abort.abort();
      await tail;
    }
  }, 30_000);

  it('shows per queue offsets and the last store time', async () => {
    const { code, stdout, stderr } = await cli(['topic', 'stats', 'events', ...ns]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain('Topic events: 3 messages stored in 2 queues');
    expect(stdout).toMatch(/^BROKER\s+QUEUE\s+MIN\s+MAX\s+MESSAGES\s+LAST-STORED$/m);
    expect(stdout).toMatch(new RegExp(`^TOTAL\\s+3\\s+\\d{4}-\\S+Z \\(.*ago\\)$`, 'm'));
    const json = parse((await cli(['topic', 'stats', 'events', '--json', ...ns])).stdout);
    expect(json.totals).toEqual({ messages: 3, queues: 2 });
    expect(json.brokers[0].queues.map((q: JsonDocument) => q.queueId)).toEqual([0, 1]);
    const missing = await cli(['topic', 'stats', 'nothing-here', ...ns]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('`apogee topic list` lists the topics');
  });

  it('explains a failed send: unknown topic, unreachable endpoint', async () => {
    const unknown = await cli(['message', 'send', '--topic', 'nope', '--body', 'x', '--endpoint', cluster.broker]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`error: sending to topic nope failed: the broker at ${cluster.broker} has no topic nope\n`);
    expect(unknown.stderr).toContain('hint: Create the topic first: `apogee topic create nope --type NORMAL`');
    const closed = await closedAddress();
    const down = await cli(['message', 'send', '--topic', 'events', '--body', 'x', '--endpoint', closed, '--json']);
    expect(down.code).toBe(1);
    expect(parse(down.stdout).error.hint).toContain(`Check that a broker runs at ${closed}`);
  }, 30_000);
});

describe('apogee broker config get / set', () => {
  it("shows the broker's config, changes a run-time field, and refuses a change that needs a restart", async () => {
    const got = await cli(['broker', 'config', 'get', '--broker', cluster.broker, '--json']);
    expect(got.code).toBe(0);
    const broker = parse(got.stdout).brokers[0];
    expect(broker.config).toMatchObject({ brokerName: BROKER_NAME, clusterName: CLUSTER_NAME, flushMode: 'ASYNC' });
    const text = await cli(['broker', 'config', 'get', '--key', 'flushMode', ...ns]);
    expect(text.stdout).toMatch(/^flushMode\s+ASYNC\s+restart$/m);
    const refused = await cli(['broker', 'config', 'set', 'flushMode', 'SYNC', ...ns]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('needs a restart');
    expect(refused.stdout).toContain("hint: Set it in the broker's config file, environment or flags and restart the broker");
    const before = parse((await cli(['broker', 'config', 'get', '--key', 'autoCreateGroups', '--json', ...ns])).stdout).brokers[0];
    const flipped = String(!before.config.autoCreateGroups);
    const set = await cli(['broker', 'config', 'set', 'autoCreateGroups', flipped, ...ns]);
    expect(set.code).toBe(0);
    const after = parse((await cli(['broker', 'config', 'get', '--key', 'autoCreateGroups', '--json', ...ns])).stdout).brokers[0];
    expect(String(after.config.autoCreateGroups)).toBe(flipped);
    expect((await cli(['broker', 'config', 'set', 'autoCreateGroups', String(before.config.autoCreateGroups), ...ns])).code).toBe(0);
  });
});
