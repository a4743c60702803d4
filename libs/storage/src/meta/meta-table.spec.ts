import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { nodeMetaFileSystem, type MetaFileSystem } from './meta-fs';
import { MetaTable } from './meta-table';
import { waitUntil } from '../../test/wait-until';

type Offset = { queueOffset: number };

let dir: string;
const open: MetaTable<unknown>[] = [];

async function openTable<T>(options: { compactJournalBytes?: number; fs?: MetaFileSystem } = {}): Promise<MetaTable<T>> {
  const table = await MetaTable.open<T>(dir, 'offsets', options);
  open.push(table as MetaTable<unknown>);
  return table;
}

async function reopen<T>(table: MetaTable<T>, options: { compactJournalBytes?: number } = {}): Promise<MetaTable<T>> {
  await table.close();
  return openTable<T>(options);
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apogee-meta-'));
});

afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((table) => table.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('MetaTable', () => {
  it('creates an empty table and reports it', async () => {
    const table = await openTable();
    expect(table.size).toBe(0);
    expect(table.openReport).toMatchObject({ created: true, generation: 0, truncatedBytes: 0 });
    expect(fs.readdirSync(dir).sort()).toEqual(['offsets.00000000000000000000.journal', 'offsets.snapshot']);
  });

  it('keeps set, overwrite and delete across reopen', async () => {
    let table = await openTable<Offset>();
    await table.set('group-a@topic-1@0', { queueOffset: 10 });
    await table.set('group-a@topic-1@1', { queueOffset: 20 });
    await table.set('group-a@topic-1@0', { queueOffset: 11 });
    await table.delete('group-a@topic-1@1');
    table = await reopen(table);
    expect([...table.entries()]).toEqual([['group-a@topic-1@0', { queueOffset: 11 }]]);
    expect(table.openReport).toMatchObject({ created: false, journalRecords: 4, truncatedBytes: 0 });
  });

  it('applies a mutation to reads only once it is durable, and copies the value', async () => {
    const table = await openTable<Offset>();
    const value = { queueOffset: 1 };
    const pending = table.set('k', value);
    expect(table.has('k')).toBe(false);
    await pending;
    value.queueOffset = 99;
    expect(table.get('k')).toEqual({ queueOffset: 1 });
    expect(Object.isFrozen(table.get('k'))).toBe(true);
  });

  it('stores setMany as one record', async () => {
    let table = await openTable<number>();
    await table.setMany([
      ['a', 1],
      ['b', 2],
    ]);
    table = await reopen(table);
    expect(table.openReport.journalRecords).toBe(1);
    expect(table.get('a')).toBe(1);
    expect(table.get('b')).toBe(2);
  });

  it('stores an update of sets and deletes as one record, deletes last', async () => {
    let table = await openTable<number>();
    await table.setMany([
      ['a', 1],
      ['b', 2],
    ]);
    await table.update({ set: [['c', 3], ['b', 4]], delete: ['a', 'b'] });
    table = await reopen(table);
    expect(table.openReport.journalRecords).toBe(2);
    expect([...table.entries()]).toEqual([['c', 3]]);
  });

  /** A file system that counts journal writes and fdatasyncs. */
  function countingFs(): { calls: { write: number; datasync: number }; fs: MetaFileSystem } {
    const calls = { write: 0, datasync: 0 };
    const counting: MetaFileSystem = {
      ...nodeMetaFileSystem,
      open: async (file, flags) => {
        const handle = await nodeMetaFileSystem.open(file, flags);
        return {
          write: (...args) => ((calls.write += 1), handle.write(...args)),
          datasync: () => ((calls.datasync += 1), handle.datasync()),
          sync: () => handle.sync(),
          truncate: (length) => handle.truncate(length),
          close: () => handle.close(),
        };
      },
    };
    return { calls, fs: counting };
  }

  it('group-commits the writes of one event-loop turn: one write, one fdatasync', async () => {
    const { calls, fs: counting } = countingFs();
    const table = await openTable<number>({ fs: counting });
    calls.write = 0;
    await Promise.all(Array.from({ length: 100 }, (_, i) => table.set(`k${i}`, i)));
    expect(calls).toEqual({ write: 1, datasync: 1 });
    expect(table.size).toBe(100);
  });

  it("resolves 'written' records after the write and syncs them later, with the next 'sync' record or on close", async () => {
    const { calls, fs: counting } = countingFs();
    const table = await MetaTable.open<number>(dir, 'offsets', { fs: counting, deferredSyncMs: 60_000 });
    open.push(table as MetaTable<unknown>);
    calls.write = calls.datasync = 0;
    await table.update({ set: [['a', 1]] }, { durability: 'written' });
    expect(table.get('a')).toBe(1);
    expect(calls).toEqual({ write: 1, datasync: 0 });
    await table.set('b', 2); // 'sync': covers 'a' too
    expect(calls).toEqual({ write: 2, datasync: 1 });
    await table.update({ set: [['c', 3]] }, { durability: 'written' });
    await table.close();
    expect(calls).toEqual({ write: 3, datasync: 2 });
    const again = await openTable<number>();
    expect([...again.entries()]).toEqual([['a', 1], ['b', 2], ['c', 3]]);
  });

  it("syncs a 'written' record within deferredSyncMs", async () => {
    const { calls, fs: counting } = countingFs();
    const table = await MetaTable.open<number>(dir, 'offsets', { fs: counting, deferredSyncMs: 20 });
    open.push(table as MetaTable<unknown>);
    calls.datasync = 0;
    await table.update({ set: [['a', 1]] }, { durability: 'written' });
    expect(calls.datasync).toBe(0);
    await waitUntil(() => calls.datasync > 0, () => 'the deferred fdatasync', 5_000);
    expect(calls.datasync).toBe(1);
  });

  it("writes 'written' records while a deferred fdatasync is still running, and syncs them with the next one", async () => {
    let releaseSync: (() => void) | undefined;
    let syncs = 0;
    const slowSync: MetaFileSystem = {
      ...nodeMetaFileSystem,
      open: async (file, flags) => {
        const handle = await nodeMetaFileSystem.open(file, flags);
        return {
          ...handle,
          write: (...args) => handle.write(...args),
          sync: () => handle.sync(),
          truncate: (length) => handle.truncate(length),
          close: () => handle.close(),
          datasync: async () => {
            syncs += 1;
            if (syncs === 1) await new Promise<void>((resolve) => (releaseSync = resolve)); // the first deferred sync hangs
            return handle.datasync();
          },
        };
      },
    };
    const table = await MetaTable.open<number>(dir, 'offsets', { fs: slowSync, deferredSyncMs: 10 });
    open.push(table as MetaTable<unknown>);
    await table.update({ set: [['a', 1]] }, { durability: 'written' });
    await waitUntil(() => releaseSync !== undefined, () => 'the deferred fdatasync started', 5_000);
    await table.update({ set: [['b', 2]] }, { durability: 'written' }); // not held up by the hanging sync
    expect(table.get('b')).toBe(2);
    releaseSync?.();
    await waitUntil(() => syncs >= 2, () => 'a second deferred fdatasync for the record written meanwhile', 5_000);
    await table.close();
    const again = await MetaTable.open<number>(dir, 'offsets');
    open.push(again as MetaTable<unknown>);
    expect([...again.entries()]).toEqual([['a', 1], ['b', 2]]);
  });

  it('rejects bad keys and values without touching the journal', async () => {
    const table = await openTable();
    await expect(table.set('', 1)).rejects.toMatchObject({ code: 'INVALID_NAME' });
    await expect(table.set('k', undefined)).rejects.toMatchObject({ code: 'INVALID_MESSAGE' });
    await expect(table.set('k', 10n)).rejects.toMatchObject({ code: 'INVALID_MESSAGE' });
    await expect(MetaTable.open(dir, 'bad.name')).rejects.toMatchObject({ code: 'INVALID_NAME' });
    await table.set('k', 1);
    expect(table.size).toBe(1);
  });

  it('compacts into a new generation and keeps the state across reopen', async () => {
    let table = await openTable<Offset>({ compactJournalBytes: 256 });
    const model = new Map<string, Offset>();
    for (let i = 0; i < 60; i += 1) {
      const key = `k${i % 7}`;
      if (i % 5 === 4) {
        await table.delete(key);
        model.delete(key);
      } else {
        await table.set(key, { queueOffset: i });
        model.set(key, { queueOffset: i });
      }
    }
    expect(table.generation).toBeGreaterThan(2);
    const generation = table.generation;
    const journals = fs.readdirSync(dir).filter((file) => file.endsWith('.journal'));
    expect(journals).toEqual([`offsets.${String(generation).padStart(20, '0')}.journal`]);
    table = await reopen(table, { compactJournalBytes: 256 });
    expect(table.openReport).toMatchObject({ generation, truncatedBytes: 0, removedFiles: [] });
    expect(new Map(table.entries())).toEqual(model);
  });

  it('compacts on demand, behind queued writes', async () => {
    let table = await openTable<number>();
    const write = table.set('a', 1);
    await table.compact();
    await write;
    expect(table.generation).toBe(1);
    table = await reopen(table);
    expect(table.openReport).toMatchObject({ generation: 1, snapshotEntries: 1, journalRecords: 0 });
    expect(table.get('a')).toBe(1);
  });

  it('flushes queued writes on close, then refuses new ones', async () => {
    let table = await openTable<number>();
    const write = table.set('a', 1);
    await table.close();
    await write;
    await expect(table.set('b', 2)).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    table = await openTable<number>();
    expect(table.get('a')).toBe(1);
  });
});
