import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { crc32 } from 'node:zlib';
import { join } from 'node:path';
import { StorageError } from '../errors';
import { KeyIndex, type KeyCandidate, type KeyIndexOptions, type LookupOptions } from './key-index';
import {
  ENTRY_BYTES,
  HEADER_BYTES,
  crc32Of,
  decodeHeader,
  encodeHeader,
  entryPosition,
  hashKey,
  indexKey,
  messageIdKey,
  type KeyIndexInput,
} from './key-index-format';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'apogee-key-index-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const T0 = 1_700_000_000_000;

/** Input i: key `k<i % keys>` of topic T, broker i % 3, offset i × 100, stored at T0 + i. */
function input(i: number, keys = 1_000_000): KeyIndexInput {
  return { key: indexKey('T', `k${i % keys}`), brokerIndex: i % 3, physicalOffset: i * 100, storeTimeMs: T0 + i };
}

function inputs(from: number, to: number, keys?: number): KeyIndexInput[] {
  return Array.from({ length: to - from }, (_, j) => input(from + j, keys));
}

function offsets(candidates: readonly KeyCandidate[]): number[] {
  return candidates.map((c) => c.physicalOffset);
}

/** Every page of a lookup, following cursors. */
function lookupAll(index: KeyIndex, key: string, options: LookupOptions): KeyCandidate[] {
  const out: KeyCandidate[] = [];
  let cursor: number | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const page = index.lookup(key, { ...options, cursor });
    out.push(...page.candidates);
    if (page.cursor === undefined) return out;
    cursor = page.cursor;
  }
  throw new Error('lookup did not end');
}

function idxFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.idx'))
    .sort();
}

async function build(dir: string, count: number, options: KeyIndexOptions, keys?: number): Promise<KeyIndex> {
  const index = KeyIndex.open(dir, options);
  index.append(inputs(0, count, keys));
  await index.flush();
  return index;
}

describe('key-index format', () => {
  it('hashes keys stably and keeps the key and id spaces apart', () => {
    expect(hashKey('')).toBe(hashKey(''));
    expect(hashKey(indexKey('T', 'a'))).not.toBe(hashKey(indexKey('T', 'b')));
    expect(indexKey('T', 'a')).not.toBe(messageIdKey('T\u0001a'.slice(1)));
    expect(hashKey('abc')).toBeGreaterThanOrEqual(0);
    expect(hashKey('abc')).toBeLessThan(2 ** 32);
  });

  it('computes the entry CRC as CRC-32/IEEE', () => {
    const buf = Buffer.from('123456789abcdefghijklmnopqrstuvwxyz');
    expect(crc32Of(buf, 0, 9)).toBe(0xcbf43926);
    for (let to = 0; to <= buf.length; to++) expect(crc32Of(buf, 3, to < 3 ? 3 : to)).toBe(crc32(buf.subarray(3, Math.max(3, to))));
  });

  it('round-trips a header and rejects any flipped byte', () => {
    const h = {
      sealed: true,
      slotCount: 7,
      entryCapacity: 100,
      entryCount: 42,
      firstEntry: 2 ** 40 + 3,
      beginStoreTimeMs: T0,
      endStoreTimeMs: T0 + 5,
    };
    const buf = encodeHeader(h);
    expect(buf.length).toBe(HEADER_BYTES);
    expect(decodeHeader(buf)).toEqual(h);
    for (let i = 0; i < HEADER_BYTES; i++) {
      const bad = Buffer.from(buf);
      bad[i] ^= 0x10;
      expect(typeof decodeHeader(bad)).toBe('string');
    }
  });
});

describe('KeyIndex', () => {
  it('finds entries by key and by message id, newest first, and nothing for unknown keys', async () => {
    const index = KeyIndex.open(tempDir(), { slotCount: 64, entriesPerFile: 1000 });
    index.append(inputs(0, 30, 5));
    index.append([{ key: messageIdKey('ID-1'), brokerIndex: 2, physicalOffset: 7, storeTimeMs: T0 }]);
    // Visible before it is written.
    expect(offsets(index.lookup(indexKey('T', 'k3'), { limit: 100 }).candidates)).toEqual([2800, 2300, 1800, 1300, 800, 300]);
    expect(index.lookup(messageIdKey('ID-1'), { limit: 10 }).candidates).toEqual([
      { entry: 30, brokerIndex: 2, physicalOffset: 7, storeTimeMs: T0 },
    ]);
    expect(index.lookup(indexKey('T', 'nope'), { limit: 10 })).toEqual({ candidates: [] });
    expect(index.lookup(indexKey('U', 'k3'), { limit: 10 }).candidates).toEqual([]);
    expect(await index.flush()).toBe(31);
    expect(index.durableEntries).toBe(31);
    await index.close();
  });

  it('walks shared slot chains and returns every entry of a colliding hash as a candidate', async () => {
    const index = KeyIndex.open(tempDir(), { slotCount: 1, entriesPerFile: 7 });
    index.append(inputs(0, 40, 4));
    expect(offsets(lookupAll(index, indexKey('T', 'k1'), { limit: 3 }))).toEqual([37, 33, 29, 25, 21, 17, 13, 9, 5, 1].map((i) => i * 100));
    // Two different keys with one 32-bit hash: both come back; the caller checks the message.
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
      const key = indexKey('T', `c${i}`);
      const h = hashKey(key);
      const other = seen.get(h);
      if (other !== undefined) pair = [other, key];
      seen.set(h, key);
    }
    index.append([
      { key: pair[0], brokerIndex: 0, physicalOffset: 1, storeTimeMs: T0 },
      { key: pair[1], brokerIndex: 1, physicalOffset: 2, storeTimeMs: T0 },
    ]);
    expect(offsets(index.lookup(pair[0], { limit: 10 }).candidates)).toEqual([2, 1]);
    await index.close();
  });

  it('pages newest first across rolled files with a cursor, and honours limit', async () => {
    const dir = tempDir();
    const index = await build(dir, 100, { slotCount: 3, entriesPerFile: 8 }, 10);
    expect(idxFiles(dir).length).toBe(13);
    const expected = Array.from({ length: 10 }, (_, j) => (97 - j * 10) * 100);
    for (const limit of [1, 2, 3, 4, 10, 11]) {
      expect(offsets(lookupAll(index, indexKey('T', 'k7'), { limit }))).toEqual(expected);
    }
    const first = index.lookup(indexKey('T', 'k7'), { limit: 4 });
    expect(offsets(first.candidates)).toEqual(expected.slice(0, 4));
    expect(offsets(index.lookup(indexKey('T', 'k7'), { limit: 4, cursor: first.cursor }).candidates)).toEqual(expected.slice(4, 8));
    // A scan budget ends a page early; the cursor resumes where it stopped.
    expect(offsets(lookupAll(index, indexKey('T', 'k7'), { limit: 100, maxScanned: 2 }))).toEqual(expected);
    await index.close();
  });

  it('filters by store time and skips files outside the range', async () => {
    const index = await build(tempDir(), 100, { slotCount: 5, entriesPerFile: 16 }, 10);
    const got = lookupAll(index, indexKey('T', 'k4'), { limit: 2, fromMs: T0 + 30, toMs: T0 + 74 });
    expect(got.map((c) => c.storeTimeMs - T0)).toEqual([74, 64, 54, 44, 34]);
    expect(index.lookup(indexKey('T', 'k4'), { limit: 5, fromMs: T0 + 1000 }).candidates).toEqual([]);
    await index.close();
  });

  it('rolls a file when an entry comes rollAfterMs after its oldest one', async () => {
    const dir = tempDir();
    const index = await build(dir, 50, { slotCount: 5, entriesPerFile: 1000, rollAfterMs: 20 }, 10);
    expect(idxFiles(dir)).toEqual(['00000000000000000000.idx', '00000000000000000020.idx', '00000000000000000040.idx']);
    expect(offsets(index.lookup(indexKey('T', 'k1'), { limit: 10 }).candidates)).toEqual([4100, 3100, 2100, 1100, 100]);
    await index.close();
  });

  it('reopens after a clean close with every entry and continues appending', async () => {
    const dir = tempDir();
    const options = { slotCount: 11, entriesPerFile: 16 };
    await (await build(dir, 40, options, 7)).close();
    const index = KeyIndex.open(dir, options);
    expect(index.openReport).toMatchObject({ entries: 40, files: 3, droppedEntries: 0, tornBytes: 0, missingEntries: 0 });
    index.append(inputs(40, 60, 7));
    expect(offsets(index.lookup(indexKey('T', 'k2'), { limit: 100 }).candidates)).toEqual([58, 51, 44, 37, 30, 23, 16, 9, 2].map((i) => i * 100));
    expect(await index.flush()).toBe(60);
    await index.close();
  });

  it('serves no torn entry: the last entry cut at every byte leaves the prefix', async () => {
    const dir = tempDir();
    const options = { slotCount: 4, entriesPerFile: 16 };
    await (await build(dir, 20, options, 6)).close();
    const active = join(dir, '00000000000000000016.idx');
    const original = readFileSync(active);
    const end = entryPosition(4, 5);
    expect(original.length).toBe(end);
    for (let cut = end - ENTRY_BYTES; cut < end; cut++) {
      writeFileSync(active, original.subarray(0, cut));
      const index = KeyIndex.open(dir, options);
      expect(index.openReport).toMatchObject({ entries: 19, droppedEntries: 0, tornBytes: cut - (end - ENTRY_BYTES) });
      expect(index.lookup(indexKey('T', 'k1'), { limit: 10 }).candidates.map((c) => c.entry)).toEqual([13, 7, 1]);
      expect(index.lookup(indexKey('T', 'k19'.replace('19', '1')), { limit: 1 }).candidates[0].entry).toBe(13);
      await index.close();
      // The durable point says 20: one entry is reported missing.
      writeFileSync(active, original.subarray(0, cut));
      const checked = KeyIndex.open(dir, { ...options, durableEntries: 20 });
      expect(checked.openReport.missingEntries).toBe(1);
      await checked.close();
    }
  });

  it('stops the recovery scan at a flipped byte in the active file', async () => {
    const dir = tempDir();
    const options = { slotCount: 4, entriesPerFile: 100 };
    await (await build(dir, 20, options)).close();
    const path = join(dir, '00000000000000000000.idx');
    const buf = readFileSync(path);
    buf[entryPosition(4, 12) + 9] ^= 1;
    writeFileSync(path, buf);
    const index = KeyIndex.open(dir, options);
    expect(index.openReport).toMatchObject({ entries: 11, droppedEntries: 9 });
    expect(index.lookup(indexKey('T', 'k15'), { limit: 1 }).candidates).toEqual([]);
    expect(index.lookup(indexKey('T', 'k10'), { limit: 1 }).candidates.length).toBe(1);
    await index.close();
  });

  it('reports CORRUPT_RECORD for a damaged entry in a sealed file', async () => {
    const dir = tempDir();
    const options = { slotCount: 4, entriesPerFile: 10 };
    await (await build(dir, 25, options)).close();
    const path = join(dir, '00000000000000000000.idx');
    const buf = readFileSync(path);
    buf[entryPosition(4, 3) + 20] ^= 1;
    writeFileSync(path, buf);
    const index = KeyIndex.open(dir, options);
    expect(() => index.lookup(indexKey('T', 'k2'), { limit: 1 })).toThrow(StorageError);
    await index.close();
  });

  it('drops entries past durableEntries so that a replay adds no duplicates', async () => {
    const dir = tempDir();
    const options = { slotCount: 3, entriesPerFile: 8 };
    const index = await build(dir, 10, options, 5);
    index.append(inputs(10, 30, 5));
    await index.close(); // flushed, but the caller's checkpoint still says 10
    expect(idxFiles(dir).length).toBe(4);
    const reopened = KeyIndex.open(dir, { ...options, durableEntries: 10 });
    expect(reopened.openReport).toMatchObject({ entries: 10, files: 2, droppedEntries: 6, missingEntries: 0 });
    expect(reopened.openReport.deletedFiles.map((f) => f.name)).toEqual(['00000000000000000016.idx', '00000000000000000024.idx']);
    reopened.append(inputs(10, 30, 5)); // the replay
    expect(offsets(reopened.lookup(indexKey('T', 'k2'), { limit: 100 }).candidates)).toEqual([27, 22, 17, 12, 7, 2].map((i) => i * 100));
    expect(await reopened.flush()).toBe(30);
    await reopened.close();
    // A cut inside a sealed file reopens it as the active file.
    const cut = KeyIndex.open(dir, { ...options, durableEntries: 5 });
    expect(cut.openReport).toMatchObject({ entries: 5, files: 1 });
    cut.append(inputs(5, 12, 5));
    expect(offsets(cut.lookup(indexKey('T', 'k1'), { limit: 100 }).candidates)).toEqual([1100, 600, 100]);
    await cut.close();
  });

  it('seals at open a file whose seal a crash interrupted, and drops files after a gap', async () => {
    const dir = tempDir();
    const options = { slotCount: 3, entriesPerFile: 8 };
    await (await build(dir, 30, options, 5)).close();
    const second = join(dir, '00000000000000000008.idx');
    const header = decodeHeader(readFileSync(second).subarray(0, HEADER_BYTES));
    if (typeof header === 'string') throw new Error(header);
    const unsealed = encodeHeader({ ...header, sealed: false, entryCount: 0, beginStoreTimeMs: 0, endStoreTimeMs: 0 });
    const buf = readFileSync(second);
    unsealed.copy(buf, 0);
    buf.fill(0, HEADER_BYTES, HEADER_BYTES + 12); // the slot table never made it
    writeFileSync(second, buf);
    let index = KeyIndex.open(dir, options);
    expect(index.openReport).toMatchObject({ entries: 30, files: 4, deletedFiles: [] });
    expect(offsets(index.lookup(indexKey('T', 'k3'), { limit: 100 }).candidates)).toEqual([28, 23, 18, 13, 8, 3].map((i) => i * 100));
    await index.close();
    expect(decodeHeader(readFileSync(second).subarray(0, HEADER_BYTES))).toMatchObject({ sealed: true, entryCount: 8 });

    unlinkSync(second);
    index = KeyIndex.open(dir, options);
    expect(index.openReport).toMatchObject({ entries: 8, files: 1 });
    expect(index.openReport.deletedFiles.map((f) => f.reason)).toEqual(['gap after entry 8', 'gap after entry 8']);
    await index.close();
  });

  it('deletes a file whose header is torn, with every later file', async () => {
    const dir = tempDir();
    const options = { slotCount: 3, entriesPerFile: 8 };
    await (await build(dir, 20, options)).close();
    truncateSync(join(dir, '00000000000000000016.idx'), 10);
    const index = KeyIndex.open(dir, options);
    expect(index.openReport).toMatchObject({ entries: 16, files: 2 });
    expect(index.openReport.deletedFiles).toEqual([{ name: '00000000000000000016.idx', reason: 'short header', bytes: 10 }]);
    index.append(inputs(16, 20));
    expect(await index.flush()).toBe(20);
    await index.close();
  });

  it('retires the oldest sealed files whose newest entry is older than the horizon', async () => {
    const dir = tempDir();
    const options = { slotCount: 3, entriesPerFile: 10 };
    const index = await build(dir, 45, options, 5);
    expect(await index.retireBefore(T0 + 25)).toBe(2); // files [0,9] and [10,19]
    expect(idxFiles(dir)[0]).toBe('00000000000000000020.idx');
    expect(offsets(index.lookup(indexKey('T', 'k0'), { limit: 100 }).candidates)).toEqual([40, 35, 30, 25, 20].map((i) => i * 100));
    expect(await index.retireBefore(T0 + 10_000)).toBe(2); // never the active file
    expect(idxFiles(dir)).toEqual(['00000000000000000040.idx']);
    await index.close();
    const reopened = KeyIndex.open(dir, { ...options, durableEntries: 45 });
    expect(reopened.openReport).toMatchObject({ entries: 45, files: 1, missingEntries: 0 });
    await reopened.close();
  });

  it('rejects bad input without appending any of the batch', async () => {
    const index = KeyIndex.open(tempDir(), { slotCount: 3, entriesPerFile: 8 });
    expect(() => index.append([input(0), { ...input(1), brokerIndex: 70_000 }])).toThrow(StorageError);
    expect(index.entries).toBe(0);
    await index.close();
    expect(() => index.lookup('x', { limit: 1 })).toThrow(StorageError);
  });

  it('matches a Map model under random keys, rolls, reopens and durable cuts', async () => {
    const dir = tempDir();
    const options = { slotCount: 13, entriesPerFile: 37, rollAfterMs: 500 };
    let seed = 42;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    let model: KeyIndexInput[] = [];
    let index = KeyIndex.open(dir, options);
    let durable = 0;
    let time = T0;
    for (let round = 0; round < 200; round++) {
      const batch = Array.from({ length: 1 + random(40) }, () => {
        time += random(30);
        return { key: indexKey('T', `r${random(25)}`), brokerIndex: random(4), physicalOffset: random(1e9), storeTimeMs: time };
      });
      index.append(batch);
      model.push(...batch);
      if (random(3) === 0) durable = await index.flush();
      if (random(5) === 0) {
        await index.close();
        index = KeyIndex.open(dir, { ...options, durableEntries: durable });
        model = model.slice(0, durable);
      }
      const key = indexKey('T', `r${random(25)}`);
      const fromMs = T0 + random(Math.max(1, time - T0));
      const toMs = random(2) === 0 ? undefined : fromMs + random(Math.max(1, time - fromMs + 50));
      const expected = model
        .map((m, entry) => ({ entry, brokerIndex: m.brokerIndex, physicalOffset: m.physicalOffset, storeTimeMs: m.storeTimeMs, key: m.key }))
        .filter((m) => m.key === key && m.storeTimeMs >= fromMs && m.storeTimeMs <= (toMs ?? Infinity))
        .reverse()
        .map(({ key: _key, ...c }) => c);
      const maxScanned = random(2) === 0 ? undefined : 1 + random(5);
      expect(lookupAll(index, key, { limit: 1 + random(7), fromMs, toMs, maxScanned })).toEqual(expected);
    }
    await index.close();
    expect(statSync(dir).isDirectory()).toBe(true);
  });
});
