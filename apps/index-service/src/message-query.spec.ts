import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { indexKey, messageIdKey } from '@apogee/storage';
import { createLogger } from '@apogee/runtime';
import type { BrokerDispatchClient, WireStoredMessage } from '@apogee/protocol';
import { Indexer } from './indexer';
import { decodeTimeCursor, encodeTimeCursor, matchesId, matchesKey, MessageQuery } from './message-query';

const logger = createLogger({ app: 'index-service', level: 'silent' });

describe('key and id verification', () => {
  const m: WireStoredMessage = { topic: 't', keys: ['a', 'b'], message_id: 'id1' };
  it('keeps a candidate only when topic and key (or id) really match', () => {
    expect(matchesKey(m, 't', 'b')).toBe(true);
    expect(matchesKey(m, 't', 'c')).toBe(false);
    expect(matchesKey(m, 'u', 'a')).toBe(false);
    expect(matchesId(m, 'id1')).toBe(true);
    expect(matchesId(m, 'id1', 'u')).toBe(false);
    expect(matchesId(m, 'id2')).toBe(false);
  });
  it('round-trips time cursors and refuses garbage', () => {
    expect(decodeTimeCursor(encodeTimeCursor({ b: 'broker-a', c: 'x' }))).toEqual({ b: 'broker-a', c: 'x' });
    expect(() => decodeTimeCursor('!!')).toThrow(/bad cursor/);
  });
});

describe('MessageQuery over a fake broker', () => {
  let dir = '';
  let indexer: Indexer;
  /** What the broker "stores", by PhysicalOffset. */
  const log = new Map<number, WireStoredMessage>();
  const client: BrokerDispatchClient = {
    address: 'fake:1',
    follow: () => {
      throw new Error('unused');
    },
    getMessages: async (offsets) => ({
      items: offsets.map((o) => ({ physical_offset: String(o), found: log.has(Number(o)), message: log.get(Number(o)) })),
    }),
    messagesByTime: async () => ({ messages: [], next_cursor: '' }),
    close: () => undefined,
  };
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'apogee-query-'));
    indexer = await Indexer.open(dir, { slotCount: 1, entriesPerFile: 100, logger }); // one slot: every key collides
    log.clear();
  });
  afterEach(async () => {
    await indexer.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('drops hash collisions and deleted messages, newest first, with a cursor', async () => {
    const put = (offset: number, key: string, topic = 't'): void => {
      log.set(offset, { topic, keys: [key], message_id: `id${offset}`, physical_offset: String(offset), store_timestamp_ms: String(offset) });
      indexer.keyIndex.append([
        { key: indexKey(topic, key), brokerIndex: 0, physicalOffset: offset, storeTimeMs: offset },
        { key: messageIdKey(`id${offset}`), brokerIndex: 0, physicalOffset: offset, storeTimeMs: offset },
      ]);
    };
    indexer.position('a');
    put(10, 'k');
    put(20, 'other');
    put(30, 'k', 'u');
    put(40, 'k');
    put(50, 'k');
    log.delete(50); // retention deleted it
    const query = new MessageQuery(indexer, { clientOf: () => client, brokerNames: () => ['a'] });
    // hashKey collides only when mod slotCount matches; with one slot everything shares a chain, but the
    // index still filters by the full 32-bit hash: a different key is not a candidate at all.
    const all = await query.queryByKey({ topic: 't', key: 'k' });
    expect(all.messages?.map((m) => Number(m.physical_offset))).toEqual([40, 10]);
    const first = await query.queryByKey({ topic: 't', key: 'k', limit: 1 });
    expect(first.messages?.map((m) => Number(m.physical_offset))).toEqual([40]);
    const rest = await query.queryByKey({ topic: 't', key: 'k', limit: 1, cursor: first.next_cursor });
    expect(rest.messages?.map((m) => Number(m.physical_offset))).toEqual([10]);
    expect((await query.queryByKey({ topic: 't', key: 'k', from_ms: 20, to_ms: 45 })).messages?.map((m) => Number(m.physical_offset))).toEqual([40]);
    expect((await query.queryByKey({ topic: 't', key: 'nope' })).messages).toEqual([]);
    expect((await query.getById({ message_id: 'id30' })).messages?.map((m) => m.topic)).toEqual(['u']);
    expect((await query.getById({ message_id: 'id30', topic: 't' })).messages).toEqual([]);
  });

  it('keeps only true matches when the broker returns a different message at a candidate (a 32-bit collision)', async () => {
    indexer.position('a');
    indexer.keyIndex.append([{ key: indexKey('t', 'k'), brokerIndex: 0, physicalOffset: 7, storeTimeMs: 7 }]);
    log.set(7, { topic: 't', keys: ['colliding-key'], physical_offset: '7' });
    const query = new MessageQuery(indexer, { clientOf: () => client, brokerNames: () => ['a'] });
    expect((await query.queryByKey({ topic: 't', key: 'k' })).messages).toEqual([]);
  });

  it('fails with BROKER_UNAVAILABLE when a broker holding candidates is unknown, and refuses bad input', async () => {
    indexer.position('a');
    indexer.keyIndex.append([{ key: indexKey('t', 'k'), brokerIndex: 0, physicalOffset: 7, storeTimeMs: 7 }]);
    const query = new MessageQuery(indexer, { clientOf: () => undefined, brokerNames: () => [] });
    await expect(query.queryByKey({ topic: 't', key: 'k' })).rejects.toMatchObject({ code: 'BROKER_UNAVAILABLE' });
    await expect(query.queryByKey({ topic: 't', key: '' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(query.queryByKey({ topic: 't', key: 'k', limit: 5000 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(query.queryByKey({ topic: 't', key: 'k', cursor: 'x' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
