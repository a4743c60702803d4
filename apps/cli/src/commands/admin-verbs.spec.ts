import { Metadata, status } from '@grpc/grpc-js';
import { ERROR_CODE_METADATA_KEY, type BrokerAdminClient, type NameServerClient } from '@apogee/protocol';
import type { ClusterInfo } from '@apogee/routing';
import { parseCommandArgs } from '../cli-args';
import type { CliDeps, CliProducer, SendInput } from '../command';
import { createProgress, renderProgress } from '../progress';
import { runCli } from '../run-cli';
import { brokerConfigGetCommand } from './broker-config-get.command';
import { parseConfigSet } from './broker-config-set.command';
import { brokerConfigSetCommand } from './broker-config-set.command';
import { groupRows, renderGroupList } from './group-list.command';
import { groupUpdateCommand, groupUpdateRequest, parseGroupUpdate } from './group-update.command';
import { messageSendCommand, parseMessageSend } from './message-send.command';
import { matching, messageTailCommand, parseMessageTail, renderTailLine, tailedMessage } from './message-tail.command';
import { renderTopicStats, topicStatsJson } from './topic-stats.command';
import { parseTopicUpdate, topicUpdateCommand, topicUpdateRequest } from './topic-update.command';
import type { Command } from '../command';

const NOW = 1_700_000_000_000;
const args = (command: Command, argv: string[]) => parseCommandArgs(argv, command.options);

async function cli(argv: string[], deps: Partial<CliDeps> = {}, tty = false) {
  let stdout = '';
  let stderr = '';
  const io = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t), isTTY: tty, columns: 60 } };
  const code = await runCli(argv, io, deps);
  return { code, stdout, stderr };
}

function serviceError(code: status, details: string, apogeeCode: string): Error {
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_METADATA_KEY, apogeeCode);
  return Object.assign(new Error(details), { code, details, metadata });
}

const INFO: ClusterInfo = {
  clusters: [{ clusterName: 'c1', brokerNames: ['a', 'b'] }],
  brokers: [
    { clusterName: 'c1', brokerName: 'a', replicas: [{ brokerId: 0, address: 'h1:1', role: 'MASTER', lastHeartbeatMs: 1 }] },
    { clusterName: 'c1', brokerName: 'b', replicas: [{ brokerId: 0, address: 'h2:1', role: 'MASTER', lastHeartbeatMs: 1 }] },
  ],
};

/** A nameserver with INFO, and brokers whose admin calls `answer` decides. */
function fakes(answer: (address: string, method: string, request: unknown) => unknown): Partial<CliDeps> {
  return {
    nameServerClient: (address) => ({ address, clusterInfo: async () => INFO, close: () => undefined }) as unknown as NameServerClient,
    brokerAdminClient: (address): BrokerAdminClient => ({
      call: async (method, request) => answer(address, method, request) as never,
      close: () => undefined,
    }),
  };
}

describe('parsing the new verbs', () => {
  it('topic update: queues and/or permission, at least one', () => {
    const input = parseTopicUpdate(args(topicUpdateCommand, ['orders', '--queues', '4', '--perm', 'rw']));
    expect(input).toMatchObject({ topic: 'orders', queues: 4, perm: 'RW' });
    expect(topicUpdateRequest(input)).toEqual({ name: 'orders', read_queue_count: 4, write_queue_count: 4, permission: 'READ_WRITE' });
    expect(topicUpdateRequest(parseTopicUpdate(args(topicUpdateCommand, ['orders', '--perm', 'R'])))).toEqual({ name: 'orders', permission: 'READ' });
    expect(() => parseTopicUpdate(args(topicUpdateCommand, ['orders']))).toThrow('nothing to change');
    expect(() => parseTopicUpdate(args(topicUpdateCommand, ['orders', '--perm', 'X']))).toThrow('--perm "X" is invalid; allowed: R, W, RW, NONE');
  });

  it('group update: fifo and max attempts', () => {
    const input = parseGroupUpdate(args(groupUpdateCommand, ['billing', '--fifo', 'false', '--max-attempts', '4']));
    expect(groupUpdateRequest(input)).toEqual({ name: 'billing', fifo: false, max_delivery_attempts: 4 });
    expect(() => parseGroupUpdate(args(groupUpdateCommand, ['billing']))).toThrow('nothing to change');
  });

  it('broker config set: a camelCase key and a value; --broker or --cluster', () => {
    expect(parseConfigSet(args(brokerConfigSetCommand, ['autoCreateTopics', 'true', '--broker', 'h:1']))).toMatchObject({
      key: 'autoCreateTopics',
      value: 'true',
      broker: 'h:1',
    });
    expect(() => parseConfigSet(args(brokerConfigSetCommand, ['auto-create-topics', 'true']))).toThrow('is not a field name');
    expect(() => parseConfigSet(args(brokerConfigSetCommand, ['k', 'v', '--broker', 'nohost']))).toThrow('--broker "nohost" is not HOST:PORT');
    expect(() => parseConfigSet(args(brokerConfigSetCommand, ['k']))).toThrow('missing <value>');
  });

  it('message send: topic and body required, keys split, endpoint from the environment', () => {
    const input = parseMessageSend(args(messageSendCommand, ['--topic', 't', '--body', 'hi', '--keys', 'a, b,', '--tag', 'x']), { APOGEE_ENDPOINT: 'e:1' });
    expect(input).toEqual({ endpoint: 'e:1', topic: 't', body: 'hi', keys: ['a', 'b'], tag: 'x' });
    expect(() => parseMessageSend(args(messageSendCommand, ['--body', 'x']))).toThrow('missing --topic T');
    expect(() => parseMessageSend(args(messageSendCommand, ['--topic', 't']))).toThrow('missing --body TEXT');
    expect(() => parseMessageSend(args(messageSendCommand, ['--topic', 't', '--body', 'x', '--tag', 'a|b']))).toThrow('--tag "a|b" is invalid');
  });

  it('message tail: a topic, an optional tag and count', () => {
    expect(parseMessageTail(args(messageTailCommand, ['t', '--count', '2', '--json']))).toMatchObject({ topic: 't', count: 2, json: true });
    expect(() => parseMessageTail(args(messageTailCommand, ['t', '--count', '0']))).toThrow('--count "0" is invalid');
  });
});

describe('rendering the new verbs', () => {
  it('topic stats: one row per queue, totals, failures', () => {
    const outcomes = [
      {
        brokerName: 'a',
        address: 'h1:1',
        result: 'read' as const,
        value: {
          topic: 't',
          queues: [
            { queue_id: 0, min_offset: '2', max_offset: '5', last_store_timestamp_ms: String(NOW - 3_000) },
            { queue_id: 1 },
          ],
        },
      },
      { brokerName: 'b', address: 'h2:1', result: 'failed' as const, error: { message: 'broker b at h2:1: down', hint: 'start it' } },
    ];
    expect(renderTopicStats('t', outcomes, NOW)).toBe(
      [
        'Topic t: 3 messages stored in 2 queues',
        'BROKER  QUEUE  MIN  MAX  MESSAGES  LAST-STORED',
        'a       0      2    5    3         2023-11-14T22:13:17.000Z (3s ago)',
        'a       1      0    0    0         -',
        'b       -      -    -    -         FAILED',
        'TOTAL                    3         2023-11-14T22:13:17.000Z (3s ago)',
        'b: broker b at h2:1: down',
        '  hint: start it',
        '',
      ].join('\n'),
    );
    expect(topicStatsJson('t', outcomes)).toMatchObject({
      ok: false,
      totals: { messages: 3, queues: 2 },
      brokers: [{ queues: [{ queueId: 0, minOffset: 2, maxOffset: 5, messages: 3, lastStoreTime: '2023-11-14T22:13:17.000Z' }, { queueId: 1, lastStoreTime: null }] }, { result: 'failed' }],
    });
  });

  it('group list: a row per group and settings, differences called out', () => {
    const outcomes = [
      { brokerName: 'a', address: 'h1:1', result: 'read' as const, value: [{ name: 'billing', max_delivery_attempts: 17 }, { name: 'fifo', fifo: true, max_delivery_attempts: 5 }] },
      { brokerName: 'b', address: 'h2:1', result: 'read' as const, value: [{ name: 'billing', max_delivery_attempts: 3 }] },
    ];
    expect(groupRows(outcomes).map((r) => [r.name, r.maxDeliveryAttempts, r.brokers])).toEqual([
      ['billing', 17, ['a']],
      ['billing', 3, ['b']],
      ['fifo', 5, ['a']],
    ]);
    const text = renderGroupList('c1', outcomes);
    expect(text).toContain('Consumer groups in cluster c1 (2 of 2 masters answered):');
    expect(text).toMatch(/^fifo\s+yes\s+5\s+no\s+a$/m);
    expect(text).toContain('Settings differ between brokers for: billing;');
    expect(text).toContain('On some brokers only: fifo;');
  });

  it('message tail: one line per message, only the topic (and tag) asked for', () => {
    const entry = { topic: 't', queue_id: 1, queue_offset: '7', physical_offset: '100', message_id: 'ID1', tag: 'x', keys: ['k'], store_timestamp_ms: String(NOW) };
    expect(matching({ entries: [entry, { ...entry, topic: 'other' }, { ...entry, tag: 'y' }] }, { topic: 't', tag: 'x' })).toEqual([entry]);
    const line = renderTailLine(tailedMessage('a', entry, { body: Buffer.from('hello\nworld') }));
    expect(line).toBe('2023-11-14T22:13:20.000Z  a q1:7  ID1  tag=x  keys=k  "hello\\nworld"\n');
    expect(renderTailLine(tailedMessage('a', { ...entry, keys: [], tag: '' }, { body: Buffer.from([0, 1]) }))).toContain('tag=-  keys=-  base64:AAE=');
  });

  it('progress: a bar with a total, a spinner without; nothing unless stderr is a terminal', () => {
    expect(renderProgress('creating', 1, 4, 'a')).toBe('[#####...............] 1/4 creating a');
    expect(renderProgress('waiting', 0, undefined, '', 1)).toBe('/ waiting');
    let written = '';
    createProgress({ write: (t: string) => (written += t) }, 'x', 2).tick();
    expect(written).toBe('');
    const tty = { write: (t: string) => (written += t), isTTY: true, columns: 40 };
    const progress = createProgress(tty, 'x', 2);
    progress.tick('a');
    progress.done();
    progress.tick('late');
    expect(written).toContain('\r[##########..........] 1/2 x a');
    expect(written.endsWith(`\r${' '.repeat(39)}\r`)).toBe(true);
  });
});

describe('running the new verbs against fake servers', () => {
  it('broker config get: a table per broker with what changes at run time; --key picks one field', async () => {
    const deps = fakes(() => ({
      entries: [
        { key: 'brokerName', value_json: '"a"' },
        { key: 'autoCreateGroups', value_json: 'false', runtime: true },
        { key: 'nameservers', value_json: '["n:1","n:2"]' },
      ],
    }));
    const { code, stdout } = await cli(['broker', 'config', 'get', '--broker', 'h1:1'], deps);
    expect(code).toBe(0);
    expect(stdout).toContain('Broker h1:1:');
    expect(stdout).toMatch(/^autoCreateGroups\s+false\s+yes$/m);
    expect(stdout).toMatch(/^nameservers\s+n:1,n:2\s+restart$/m);
    const json = JSON.parse((await cli(['broker', 'config', 'get', '--json'], deps)).stdout);
    expect(json.brokers.map((b: { brokerName: string }) => b.brokerName)).toEqual(['a', 'b']);
    expect(json.brokers[0]).toMatchObject({ config: { brokerName: 'a', nameservers: ['n:1', 'n:2'] }, runtime: ['autoCreateGroups'] });
    const missing = await cli(['broker', 'config', 'get', '--key', 'nope', '--broker', 'h1:1'], deps);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('error: no config field "nope"\n');
  });

  it('broker config set: old and new value per broker; "needs a restart" with what to do', async () => {
    const deps = fakes((address, _method, request) => {
      const { key } = request as { key: string };
      if (key === 'flushMode') throw serviceError(status.FAILED_PRECONDITION, 'flushMode cannot change while the broker runs (needs a restart)', 'INVALID_CONFIG');
      if (address === 'h2:1') throw serviceError(status.UNAVAILABLE, 'connect ECONNREFUSED', 'X');
      return { old_entry: { key, value_json: 'false' }, entry: { key, value_json: 'true' } };
    });
    const ok = await cli(['broker', 'config', 'set', 'autoCreateGroups', 'true', '--broker', 'h1:1'], deps);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('Set autoCreateGroups = true in broker h1:1 (until the next restart');
    expect(ok.stdout).toContain('h1:1: autoCreateGroups false -> true');
    const restart = await cli(['broker', 'config', 'set', 'flushMode', 'SYNC', '--json'], deps);
    expect(restart.code).toBe(1);
    const doc = JSON.parse(restart.stdout);
    expect(doc.brokers[0].error).toMatchObject({ grpcStatus: 'FAILED_PRECONDITION', apogeeCode: 'INVALID_CONFIG' });
    expect(doc.brokers[0].error.hint).toContain('restart the broker');
    expect(restart.stderr).toBe('error: setting flushMode failed on 2 of 2 brokers\n');
  });

  it('topic delete: "not there" is no failure unless no broker had the topic; a progress bar on a terminal', async () => {
    const notFound = () => serviceError(status.NOT_FOUND, 'Topic t does not exist', 'TOPIC_NOT_FOUND');
    const some = await cli(['topic', 'delete', 't'], fakes((address) => {
      if (address === 'h2:1') throw notFound();
      return { topic: { name: 't' } };
    }), true);
    expect(some.code).toBe(0);
    expect(some.stdout).toMatch(/^a\s+h1:1\s+deleted$/m);
    expect(some.stdout).toMatch(/^b\s+h2:1\s+not there \(nothing to delete\)$/m);
    expect(some.stderr).toContain('2/2 deleting topic t');
    const none = await cli(['topic', 'delete', 't'], fakes(() => {
      throw notFound();
    }));
    expect(none.code).toBe(1);
    expect(none.stderr).toBe('error: no broker of the cluster has topic t; check the name (`apogee topic list` lists them)\n');
  });

  it('message send: prints the message id; a failure says what to do', async () => {
    const sent: SendInput[] = [];
    const producer: CliProducer = {
      send: async (m) => (sent.push(m), { messageId: 'ABC', queueId: 2, offset: 9, brokerName: 'a' }),
      shutdown: async () => undefined,
    };
    const deps = { ...fakes(() => ({ topic: { name: 't' } })), startProducer: async () => producer };
    const { code, stdout } = await cli(['message', 'send', '--topic', 't', '--body', 'hi', '--keys', 'k1,k2'], deps);
    expect(code).toBe(0);
    expect(stdout).toBe('Sent to topic t (a, queue 2, offset 9)\nmessage id: ABC\n');
    expect(sent[0]).toMatchObject({ topic: 't', keys: ['k1', 'k2'], body: Buffer.from('hi') });
    const down = await cli(['message', 'send', '--topic', 't', '--body', 'hi', '--endpoint', 'h9:1'], {
      ...fakes(() => {
        throw serviceError(status.UNAVAILABLE, 'No connection established', 'X');
      }),
      startProducer: async () => producer,
    });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('error: sending to topic t failed: no broker answers at h9:1');
    expect(down.stderr).toContain('hint: Check that a broker runs at h9:1, or pass --endpoint HOST:PORT');
  });
});

describe('help of the new verbs', () => {
  it.each([topicUpdateCommand, groupUpdateCommand, brokerConfigGetCommand, brokerConfigSetCommand, messageSendCommand, messageTailCommand])(
    '$noun $verb has an example',
    async (command) => {
      const { code, stdout } = await cli([command.noun, ...command.verb.split(' '), '--help']);
      expect(code).toBe(0);
      expect(stdout).toContain(`npx apogee ${command.noun} ${command.verb}`);
    },
  );
});
