import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { indexKey, messageIdKey } from '@apogee/storage';
import { createLogger } from '@apogee/runtime';
import { parseCheckpoint } from './checkpoint';
import type { WireDispatchBatch, WireDispatchEntry } from '@apogee/protocol';
import { entriesOf, Indexer } from './indexer';

const logger = createLogger({ app: 'index-service', level: 'silent' });
const SMALL = { slotCount: 64, entriesPerFile: 1_000, logger };

/** A message of `bytes` bytes at `offset`, with key k<offset>. */
function entry(offset: number, keys: string[] = [`k${offset}`]): WireDispatchEntry {
  return { topic: 't', physical_offset: String(offset), message_id: `id${offset}`, keys, store_timestamp_ms: String(1_000 + offset) };
}

function batch(from: number, to: number, step = 100): WireDispatchBatch {
  const entries: WireDispatchEntry[] = [];
  for (let o = from; o < to; o += step) entries.push(entry(o));
  return { entries, from_offset: String(from), next_offset: String(to), max_offset: String(to), min_offset: '0', broker_name: 'a' };
}

const offsetsOf = (indexer: Indexer, key: string): number[] =>
  indexer.keyIndex.lookup(key, { limit: 100 }).candidates.map((c) => c.physicalOffset);

describe('entriesOf', () => {
  it('indexes each distinct key under (topic, key) and the message id', () => {
    const inputs = entriesOf({ ...entry(5, ['x', 'y', 'x', '']), message_id: 'm' }, 3);
    expect(inputs.map((i) => i.key)).toEqual([indexKey('t', 'x'), indexKey('t', 'y'), messageIdKey('m')]);
    expect(inputs.every((i) => i.brokerIndex === 3 && i.physicalOffset === 5 && i.storeTimeMs === 1_005)).toBe(true);
  });
});

describe('parseCheckpoint', () => {
  it('accepts a record and refuses broken ones', () => {
    const ok = { durableEntries: 4, brokers: { a: { brokerIndex: 0, nextOffset: 10 } } };
    expect(parseCheckpoint(ok)).toEqual(ok);
    expect(() => parseCheckpoint({ durableEntries: -1, brokers: {} })).toThrow(/durableEntries/);
    expect(() => parseCheckpoint({ durableEntries: 0, brokers: { a: { brokerIndex: 0, nextOffset: 0 }, b: { brokerIndex: 0, nextOffset: 0 } } })).toThrow(
      /brokerIndex of b/,
    );
    expect(() => parseCheckpoint(null)).toThrow();
  });
});

describe('Indexer', () => {
  let dir = '';
  const open: Indexer[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'apogee-indexer-'));
  });
  afterEach(async () => {
    for (const i of open.splice(0)) await i.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });
  const openIndexer = async (): Promise<Indexer> => {
    const indexer = await Indexer.open(dir, SMALL);
    open.push(indexer);
    return indexer;
  };

  it('numbers brokers stably across restarts', async () => {
    const first = await openIndexer();
    expect(first.position('b').brokerIndex).toBe(0);
    expect(first.position('a').brokerIndex).toBe(1);
    await first.close();
    open.length = 0;
    const second = await openIndexer();
    expect(second.position('a').brokerIndex).toBe(1);
    expect(second.position('c').brokerIndex).toBe(2);
    expect(second.brokerName(0)).toBe('b');
  });

  it('skips entries below the position, so a replayed batch is indexed once', async () => {
    const indexer = await openIndexer();
    expect(indexer.apply('a', batch(0, 300))).toEqual({ messages: 3, entries: 6 });
    expect(indexer.apply('a', batch(0, 500))).toEqual({ messages: 2, entries: 4 });
    expect(indexer.position('a').nextOffset).toBe(500);
    expect(offsetsOf(indexer, indexKey('t', 'k100'))).toEqual([100]);
  });

  it('resumes from the checkpoint after a crash: entries past it are dropped and streamed again, none twice', async () => {
    const crashed = await Indexer.open(dir, SMALL); // not closed before the reopen: a crash (its files stay as written)
    open.push(crashed); // its descriptors are released after the test
    crashed.apply('a', batch(0, 1_000));
    await crashed.checkpoint();
    crashed.apply('a', batch(1_000, 2_000));
    await crashed.keyIndex.flush(); // written and synced, but not checkpointed
    expect(crashed.entries).toBe(40);

    const reopened = await openIndexer();
    expect(reopened.entries).toBe(20);
    expect(reopened.position('a').nextOffset).toBe(1_000);
    expect(offsetsOf(reopened, indexKey('t', 'k1500'))).toEqual([]);
    reopened.apply('a', batch(1_000, 2_000));
    for (let o = 0; o < 2_000; o += 100) expect(offsetsOf(reopened, indexKey('t', `k${o}`))).toEqual([o]);
    expect(offsetsOf(reopened, messageIdKey('id1900'))).toEqual([1_900]);
  });

  it('a crash before the first checkpoint keeps nothing', async () => {
    const crashed = await Indexer.open(dir, SMALL);
    open.push(crashed);
    crashed.apply('a', batch(0, 500));
    await crashed.keyIndex.flush();
    const reopened = await openIndexer();
    expect(reopened.entries).toBe(0);
    expect(reopened.position('a').nextOffset).toBe(0);
  });

  it('rebuilds from offset 0 when the index files lost checkpointed entries', async () => {
    const first = await openIndexer();
    first.apply('a', batch(0, 1_000));
    await first.close();
    open.length = 0;
    await rm(path.join(dir, 'key-index'), { recursive: true });
    const reopened = await openIndexer();
    expect(reopened.entries).toBe(0);
    expect(reopened.position('a')).toMatchObject({ brokerIndex: 0, nextOffset: 0 });
  });
});
