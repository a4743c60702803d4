import { parseCommandArgs } from '../cli-args';
import { UsageError } from '../cli-error';
import { parseClusterStatus, clusterStatusCommand } from './cluster-status.command';
import { groupCreateCommand, parseGroupCreate } from './group-create.command';
import { groupResetOffsetCommand, parseGroupResetOffset } from './group-reset-offset.command';
import { parseTopicCreate, topicCreateCommand } from './topic-create.command';
import { parseTopicList, topicListCommand } from './topic-list.command';
import { parseTopicRoute, topicRouteCommand } from './topic-route.command';

const args = (command: { options: Parameters<typeof parseCommandArgs>[1] }, ...argv: string[]) =>
  parseCommandArgs(argv, command.options);

function usage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
  throw new Error('expected a UsageError');
}

describe('topic create arguments', () => {
  const parse = (...argv: string[]) => parseTopicCreate(args(topicCreateCommand, ...argv));

  it('defaults to 8 queues, the default nameserver and no cluster', () => {
    expect(parse('orders', '--type', 'FIFO')).toEqual({
      nameserver: '127.0.0.1:9876',
      topic: 'orders',
      messageType: 'FIFO',
      queues: 8,
      queuesGiven: false,
    });
    expect(parse('orders', '--type', 'delay', '--queues', '2', '--cluster', 'c1')).toMatchObject({
      messageType: 'DELAY',
      queues: 2,
      queuesGiven: true,
      cluster: 'c1',
    });
  });

  it('requires a valid topic and --type', () => {
    expect(usage(() => parse('--type', 'FIFO'))).toBe('missing <topic>');
    expect(usage(() => parse('orders'))).toBe('missing --type; allowed: NORMAL, FIFO, DELAY, TRANSACTION');
    expect(usage(() => parse('orders', '--type', 'URGENT'))).toBe(
      '--type "URGENT" is invalid; allowed: NORMAL, FIFO, DELAY, TRANSACTION',
    );
    expect(usage(() => parse('bad topic', '--type', 'FIFO'))).toMatch(/Topic name "bad topic"/);
    expect(usage(() => parse('rmq_sys_x', '--type', 'FIFO'))).toMatch(/reserved/);
    expect(usage(() => parse('orders', '--type', 'FIFO', '--queues', '2000'))).toMatch(/from 1 to 1024/);
    expect(usage(() => parse('orders', '--type', 'FIFO', '--cluster', 'a b'))).toMatch(/Cluster name/);
  });
});

describe('group create arguments', () => {
  const parse = (...argv: string[]) => parseGroupCreate(args(groupCreateCommand, ...argv));

  it('leaves unset settings to the broker', () => {
    expect(parse('billing')).toEqual({ nameserver: '127.0.0.1:9876', group: 'billing' });
    expect(parse('billing', '--fifo', 'true', '--max-attempts', '3')).toMatchObject({ fifo: true, maxAttempts: 3 });
    expect(parse('billing', '--broadcast', 'true')).toEqual({ nameserver: '127.0.0.1:9876', group: 'billing', broadcast: true });
    expect(parse('billing', '--broadcast', 'false')).toMatchObject({ broadcast: false });
  });

  it('rejects bad values', () => {
    expect(usage(() => parse('billing', '--max-attempts', '0'))).toMatch(/--max-attempts "0" is invalid; allowed: an integer of at least 1/);
    expect(usage(() => parse('CID_RMQ_SYS_x'))).toMatch(/reserved/);
    expect(usage(() => parse('billing', 'extra'))).toBe('unexpected argument "extra"');
    expect(usage(() => parse('billing', '--broadcast', 'maybe'))).toMatch(/--broadcast "maybe" is invalid; allowed: true or false/);
  });
});

describe('group reset-offset arguments', () => {
  const parse = (...argv: string[]) => parseGroupResetOffset(args(groupResetOffsetCommand, ...argv));

  it('takes earliest, latest or an ISO time with a zone', () => {
    expect(parse('billing', '--topic', 'orders', '--to', 'Earliest')).toEqual({
      nameserver: '127.0.0.1:9876',
      group: 'billing',
      topic: 'orders',
      to: { kind: 'earliest' },
    });
    expect(parse('billing', '--topic', 'orders', '--to', 'latest').to).toEqual({ kind: 'latest' });
    expect(parse('billing', '--topic', 'orders', '--to', '2026-01-31T08:00:00+01:00').to).toEqual({
      kind: 'time',
      timestampMs: Date.UTC(2026, 0, 31, 7),
    });
    expect(parse('billing', '--topic', 'orders', '--to', '2026-01-31').to).toEqual({ kind: 'time', timestampMs: Date.UTC(2026, 0, 31) });
  });

  it('rejects a missing topic or target and times without a zone or out of range', () => {
    expect(usage(() => parse('billing', '--to', 'latest'))).toBe('missing --topic');
    expect(usage(() => parse('billing', '--topic', 'orders'))).toMatch(/^missing --to; allowed: earliest, latest/);
    for (const bad of ['2026-01-31T08:00:00', '2026-13-01', 'yesterday', '1700000000000']) {
      expect(usage(() => parse('billing', '--topic', 'orders', '--to', bad))).toMatch(/is invalid; allowed: earliest, latest, or an ISO 8601 time/);
    }
    expect(usage(() => parse('billing', '--topic', 'bad topic', '--to', 'latest'))).toMatch(/Topic name "bad topic"/);
  });
});

describe('topic route, topic list and cluster status arguments', () => {
  it('topic route may look at reserved topics', () => {
    expect(parseTopicRoute(args(topicRouteCommand, '%RETRY%billing'))).toEqual({
      nameserver: '127.0.0.1:9876',
      topic: '%RETRY%billing',
    });
  });

  it('take no positional arguments', () => {
    expect(usage(() => parseTopicList(args(topicListCommand, 'orders')))).toBe('unexpected argument "orders"');
    expect(usage(() => parseClusterStatus(args(clusterStatusCommand, 'now')))).toBe('unexpected argument "now"');
    expect(parseClusterStatus(args(clusterStatusCommand), { APOGEE_NAMESERVER: 'ns:1' })).toEqual({ nameserver: 'ns:1' });
  });
});
