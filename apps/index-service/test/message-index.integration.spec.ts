import type { Producer } from 'rocketmq-client-nodejs';
import type { IndexFoundMessage } from '@apogee/protocol';
import { waitFor } from '@apogee/testing';
import { startIndexCluster, type IndexCluster } from './index-cluster-fixture';

jest.setTimeout(90_000);

interface Sent {
  readonly id: string;
  readonly broker: string;
}

async function send(producer: Producer, topic: string, from: number, to: number, keys: (i: number) => string[]): Promise<Sent[]> {
  const out: Sent[] = [];
  for (let i = from; i < to; i++) {
    const receipt = await producer.send({ topic, tag: 'tagA', keys: keys(i), body: Buffer.from(`body-${i}`), properties: new Map([['n', String(i)]]) });
    out.push({ id: receipt.messageId, broker: receipt.messageQueue.broker.name });
  }
  return out;
}

/** Every message under `key`, following cursors. */
async function queryAll(cluster: IndexCluster, topic: string, key: string, range: { from_ms?: number; to_ms?: number } = {}): Promise<IndexFoundMessage[]> {
  const out: IndexFoundMessage[] = [];
  let cursor = '';
  do {
    const page = await cluster.client.queryByKey({ topic, key, limit: 1000, cursor, ...range });
    out.push(...(page.messages ?? []));
    cursor = page.next_cursor ?? '';
  } while (cursor);
  return out;
}

const idsOf = (messages: readonly IndexFoundMessage[]): string[] => messages.map((m) => m.message_id ?? '').sort();

describe('index-service over real brokers', () => {
  let cluster: IndexCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('finds messages by key, by id and by time, across two brokers', async () => {
    cluster = await startIndexCluster(['broker-a', 'broker-b']);
    const c = cluster;
    await c.createTopic('orders');
    const producer = await c.producer('orders');
    const first = await send(producer, 'orders', 0, 8, (i) => [`order-${i}`, 'shared']);
    expect(new Set(first.map((s) => s.broker))).toEqual(new Set(['broker-a', 'broker-b']));

    const found = await waitFor(async () => {
      const all = await queryAll(c, 'orders', 'shared');
      return all.length === first.length ? all : false;
    }, { timeoutMs: 20_000, what: 'all messages under key shared' });
    expect(idsOf(found)).toEqual(first.map((s) => s.id).sort());
    expect(new Set(found.map((m) => m.broker_name))).toEqual(new Set(['broker-a', 'broker-b']));
    const stamps = found.map((m) => Number(m.store_timestamp_ms));

    const one = await c.client.queryByKey({ topic: 'orders', key: 'order-3' });
    expect(one.messages).toHaveLength(1);
    expect(one.messages?.[0]).toMatchObject({ message_id: first[3]?.id, topic: 'orders', tag: 'tagA', keys: ['order-3', 'shared'] });
    expect(one.messages?.[0]?.properties).toMatchObject({ n: '3' });
    expect(Buffer.from(one.messages?.[0]?.body ?? []).toString()).toBe('body-3');
    expect((await c.client.queryByKey({ topic: 'orders', key: 'unknown' })).messages ?? []).toEqual([]);
    expect((await c.client.queryByKey({ topic: 'other', key: 'order-3' })).messages ?? []).toEqual([]);

    const byId = await c.client.getById({ message_id: first[5]?.id });
    expect(byId.messages?.map((m) => m.keys)).toEqual([['order-5', 'shared']]);
    expect((await c.client.getById({ message_id: first[5]?.id, topic: 'other' })).messages ?? []).toEqual([]);

    // A second wave, stored strictly later: time ranges split the two.
    const t1 = Math.max(...stamps);
    await waitFor(() => Date.now() > t1 + 5, { what: 'the clock to move on' });
    const second = await send(producer, 'orders', 8, 12, (i) => [`order-${i}`, 'shared']);
    await waitFor(async () => (await queryAll(c, 'orders', 'shared')).length === 12, { timeoutMs: 20_000, what: 'the second wave' });
    expect(idsOf(await queryAll(c, 'orders', 'shared', { from_ms: t1 + 1 }))).toEqual(second.map((s) => s.id).sort());
    expect(idsOf(await queryAll(c, 'orders', 'shared', { to_ms: t1 }))).toEqual(first.map((s) => s.id).sort());
    const newestFirst = await c.client.queryByKey({ topic: 'orders', key: 'shared', limit: 4 });
    expect(idsOf(newestFirst.messages ?? [])).toEqual(second.map((s) => s.id).sort());
    expect(newestFirst.next_cursor).not.toBe('');

    const byTime: IndexFoundMessage[] = [];
    let cursor = '';
    do {
      const page = await c.client.queryByTime({ topic: 'orders', from_ms: 0, to_ms: Date.now() + 1_000, limit: 5, cursor });
      byTime.push(...(page.messages ?? []));
      cursor = page.next_cursor ?? '';
    } while (cursor);
    expect(idsOf(byTime)).toEqual([...first, ...second].map((s) => s.id).sort());
    expect(byTime.map((m) => m.broker_name)).toEqual([...byTime.map((m) => m.broker_name)].sort());
    const late = await c.client.queryByTime({ topic: 'orders', from_ms: t1 + 1, to_ms: Date.now() + 1_000, limit: 100 });
    expect(idsOf(late.messages ?? [])).toEqual(second.map((s) => s.id).sort());

    const status = await c.client.indexStatus();
    expect(status.brokers?.map((b) => [b.broker_name, b.connected])).toEqual([['broker-a', true], ['broker-b', true]]);
    expect(Number(status.indexed_entries)).toBe(12 * 3);
  });

  it('after kill -9 mid-stream and a restart, every message is found exactly once', async () => {
    cluster = await startIndexCluster(['broker-a']);
    const c = cluster;
    const producer = await c.producer('crash');
    const total = 400;
    const sending = send(producer, 'crash', 0, total, (i) => [`k-${i}`, 'all']);
    await waitFor(async () => Number((await c.client.indexStatus()).indexed_entries) > 30, { timeoutMs: 20_000, what: 'some indexing' });
    c.index.kill(); // SIGKILL while messages stream in
    await c.index.exited;
    const sent = await sending;
    await c.startIndex();
    const all = await waitFor(async () => {
      const found = await queryAll(c, 'crash', 'all');
      return found.length >= total ? found : false;
    }, { timeoutMs: 30_000, what: 'every message indexed after the restart' });
    expect(all).toHaveLength(total);
    expect(idsOf(all)).toEqual(sent.map((s) => s.id).sort());
    expect(Number((await c.client.indexStatus()).indexed_entries)).toBe(total * 3);
  });

  it('resumes following a restarted broker and indexes later messages', async () => {
    cluster = await startIndexCluster(['broker-a']);
    const c = cluster;
    let producer = await c.producer('restart');
    const before = await send(producer, 'restart', 0, 5, (i) => [`r-${i}`, 'all']);
    await waitFor(async () => (await queryAll(c, 'restart', 'all')).length === 5, { timeoutMs: 20_000, what: 'the first messages' });
    await (c.brokers.get('broker-a')?.stop('SIGTERM'));
    await c.startBroker('broker-a');
    producer = await c.producer('restart');
    const after = await send(producer, 'restart', 5, 10, (i) => [`r-${i}`, 'all']);
    const all = await waitFor(async () => {
      const found = await queryAll(c, 'restart', 'all');
      return found.length >= 10 ? found : false;
    }, { timeoutMs: 30_000, what: 'messages sent after the broker restart' });
    expect(idsOf(all)).toEqual([...before, ...after].map((s) => s.id).sort());
  });
});
