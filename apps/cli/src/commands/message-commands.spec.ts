import { Metadata, status } from '@grpc/grpc-js';
import type { IndexFoundMessage, MessageIndexClient } from '@apogee/protocol';
import { runCli } from '../run-cli';
import { bodyText, renderMessage } from './message-format';
import { parseMessageGet, renderMessageGet } from './message-get.command';
import { parseMessageQuery, renderMessageQuery } from './message-query.command';

const MESSAGE: IndexFoundMessage = {
  broker_name: 'broker-a',
  topic: 'orders',
  queue_id: 1,
  queue_offset: '7',
  physical_offset: '4096',
  message_id: '01ABC',
  keys: ['order-42', 'shared'],
  tag: 'paid',
  properties: { region: 'eu', a: '1' },
  body: Buffer.from('hello\nworld'),
  born_timestamp_ms: '1795813200000',
  store_timestamp_ms: '1795813200005',
  born_host: '10.0.0.1',
  store_host: '10.0.0.2',
};

const args = (values: Record<string, string | boolean>, positionals: string[] = []) => ({ values, positionals });

describe('message rendering', () => {
  it('prints every field, the body as text when printable', () => {
    expect(renderMessage(MESSAGE)).toBe(
      [
        'message id:   01ABC',
        'topic:        orders',
        'tag:          paid',
        'keys:         order-42, shared',
        'properties:   a=1, region=eu',
        'store time:   2026-11-27T21:00:00.005Z',
        'born:         2026-11-27T21:00:00.000Z from 10.0.0.1',
        'broker:       broker-a, queue 1, offset 7 (commit log 4096)',
        'body:         11 bytes',
        '  hello',
        '  world',
        '',
      ].join('\n'),
    );
  });

  it('prints a binary body as base64', () => {
    expect(bodyText(Buffer.from([0xff, 0x00, 0x01]))).toEqual({ encoding: 'base64', text: '/wAB' });
    expect(bodyText(Buffer.from('a\u0001b'))).toEqual({ encoding: 'base64', text: 'YQFi' });
    expect(renderMessage({ ...MESSAGE, body: Buffer.from([0xff]) })).toContain('body:         1 byte, base64 (not printable UTF-8)\n  /w==');
  });

  it('says clearly when nothing matched', () => {
    const input = parseMessageQuery(args({ topic: 'orders', key: 'nope' }));
    expect(renderMessageQuery(input, [], false)).toBe('No message of topic orders has key "nope".\n');
    expect(renderMessageGet({ index: 'i:1', messageId: 'X' }, [])).toContain('No message has id X');
    expect(renderMessageQuery(input, [MESSAGE], true)).toContain('More match: raise --limit');
  });
});

describe('message command lines', () => {
  it('parses query options, defaulting to the local index-service', () => {
    expect(parseMessageQuery(args({ topic: 'orders', key: 'k', from: '2026-11-27T00:00:00Z', limit: '5' }))).toEqual({
      index: '127.0.0.1:9877',
      topic: 'orders',
      key: 'k',
      fromMs: Date.parse('2026-11-27T00:00:00Z'),
      limit: 5,
    });
    expect(parseMessageQuery(args({ topic: 'orders', key: 'k' }), { APOGEE_INDEX: 'h:1' }).index).toBe('h:1');
    expect(() => parseMessageQuery(args({ key: 'k' }))).toThrow('missing --topic');
    expect(() => parseMessageQuery(args({ topic: 'orders', key: 'k', from: 'yesterday' }))).toThrow(/not a date/);
    expect(() => parseMessageQuery(args({ topic: 'orders', key: 'k', index: 'nohost' }))).toThrow(/not HOST:PORT/);
    expect(parseMessageGet(args({ topic: 'orders' }, ['01ABC']))).toEqual({ index: '127.0.0.1:9877', messageId: '01ABC', topic: 'orders' });
  });
});

describe('message commands against a fake index-service', () => {
  const run = async (argv: string[], client: Partial<MessageIndexClient>) => {
    let stdout = '';
    let stderr = '';
    const closed: string[] = [];
    const code = await runCli(
      argv,
      { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } },
      { messageIndexClient: (address) => ({ address, close: () => closed.push(address), ...client }) as MessageIndexClient },
    );
    return { code, stdout, stderr, closed };
  };

  it('prints an empty result for an unknown key and exits 0', async () => {
    const out = await run(['message', 'query', '--topic', 'orders', '--key', 'nope'], { queryByKey: async () => ({ messages: [] }) });
    expect(out).toMatchObject({ code: 0, stdout: 'No message of topic orders has key "nope".\n', closed: ['127.0.0.1:9877'] });
  });

  it('prints messages as JSON', async () => {
    const out = await run(['message', 'get', '01ABC', '--json', '--index', 'h:2'], { getById: async () => ({ messages: [MESSAGE] }) });
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout).messages[0]).toMatchObject({ messageId: '01ABC', broker: 'broker-a', queueOffset: 7, body: 'hello\nworld', bodyEncoding: 'utf8' });
  });

  it('explains a server failure and exits 1', async () => {
    const metadata = new Metadata();
    metadata.set('apogee-error-code', 'BROKER_UNAVAILABLE');
    const failure = Object.assign(new Error('x'), { code: status.UNAVAILABLE, details: 'broker broker-b is not reachable now', metadata });
    const out = await run(['message', 'query', '--topic', 'orders', '--key', 'k'], { queryByKey: async () => Promise.reject(failure) });
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('index-service at 127.0.0.1:9877: broker broker-b is not reachable now');
    expect(out.stderr).toContain('A broker holding matching messages is down');
    const down = Object.assign(new Error('y'), { code: status.UNAVAILABLE, details: 'No connection established', metadata: new Metadata() });
    const unreachable = await run(['message', 'get', 'X'], { getById: async () => Promise.reject(down) });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('cannot reach the index-service at 127.0.0.1:9877');
    expect(unreachable.stderr).toContain('`npm start` runs one');
  });
});
