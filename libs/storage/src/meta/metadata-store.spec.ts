import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { MetadataStore } from './metadata-store';

let root: string;
let store: MetadataStore | undefined;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'apogee-meta-store-'));
});

afterEach(async () => {
  await store?.close();
  store = undefined;
  fs.rmSync(root, { recursive: true, force: true });
});

describe('MetadataStore', () => {
  it('creates its directory and keeps tables apart', async () => {
    const dir = path.join(root, 'broker-a', 'meta');
    store = await MetadataStore.open(dir);
    const topics = await store.table<{ queues: number }>('topics');
    const offsets = await store.table<number>('consumer-offsets');
    await Promise.all([topics.set('orders', { queues: 8 }), offsets.set('g1@orders@0', 42)]);
    await store.close();

    store = await MetadataStore.open(dir);
    expect((await store.table('topics')).get('orders')).toEqual({ queues: 8 });
    expect((await store.table('consumer-offsets')).get('g1@orders@0')).toBe(42);
    expect((await store.table('consumer-offsets')).has('orders')).toBe(false);
  });

  it('tells whether a table has files, opened or not, without creating it', async () => {
    const dir = path.join(root, 'meta');
    store = await MetadataStore.open(dir);
    expect(await store.exists('old-table')).toBe(false);
    await (await store.table('old-table')).set('k', 1);
    expect(await store.exists('old-table')).toBe(true);
    await store.close();
    store = await MetadataStore.open(dir);
    expect(await store.exists('old-table')).toBe(true);
    expect(await store.exists('never-made')).toBe(false);
    expect(fs.readdirSync(dir).some((f) => f.startsWith('never-made'))).toBe(false);
  });

  it('returns one instance per name, also to concurrent callers', async () => {
    store = await MetadataStore.open(root);
    const [a, b] = await Promise.all([store.table('groups'), store.table('groups')]);
    expect(a).toBe(b);
    expect(store.tableNames()).toEqual(['groups']);
  });

  it('rejects names that cannot be file names', async () => {
    store = await MetadataStore.open(root);
    for (const name of ['', 'a.b', '../x', 'a/b']) {
      await expect(store.table(name)).rejects.toMatchObject({ code: 'INVALID_NAME' });
    }
  });

  it('flushes queued writes on close and refuses use afterwards', async () => {
    store = await MetadataStore.open(root);
    const table = await store.table<number>('timers');
    const write = table.set('t1', 1);
    await store.close();
    await write;
    await expect(store.table('timers')).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    await expect(table.set('t2', 2)).rejects.toMatchObject({ code: 'STORE_CLOSED' });

    store = await MetadataStore.open(root);
    expect((await store.table('timers')).get('t1')).toBe(1);
  });

  it('reports a table that fails to open and lets a later call retry', async () => {
    store = await MetadataStore.open(root);
    fs.writeFileSync(path.join(root, 'groups.snapshot'), 'not a snapshot');
    await expect(store.table('groups')).rejects.toMatchObject({ code: 'CORRUPT_METADATA' });
    fs.rmSync(path.join(root, 'groups.snapshot'));
    expect((await store.table('groups')).openReport.created).toBe(true);
  });
});
