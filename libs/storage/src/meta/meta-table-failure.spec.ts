import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { nodeMetaFileSystem, type MetaFileSystem } from './meta-fs';
import { MetaTable } from './meta-table';

/** A file system whose next datasync/write/rename can be held and made to fail. */
function faultyFs() {
  const control = {
    datasyncs: 0,
    failDatasync: undefined as Error | undefined,
    failWrite: undefined as Error | undefined,
    failRename: undefined as Error | undefined,
    hold: undefined as Promise<void> | undefined,
  };
  const fsImpl: MetaFileSystem = {
    ...nodeMetaFileSystem,
    rename: async (from, to) => {
      if (control.failRename) throw control.failRename;
      return nodeMetaFileSystem.rename(from, to);
    },
    open: async (file, flags) => {
      const handle = await nodeMetaFileSystem.open(file, flags);
      return {
        write: async (...args) => {
          if (control.failWrite) throw control.failWrite;
          return handle.write(...args);
        },
        datasync: async () => {
          control.datasyncs += 1;
          await control.hold;
          if (control.failDatasync) throw control.failDatasync;
          return handle.datasync();
        },
        sync: () => handle.sync(),
        truncate: (length) => handle.truncate(length),
        close: () => handle.close(),
      };
    },
  };
  return { control, fs: fsImpl };
}

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected`), { code });
}

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('waitFor: timed out');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

let dir: string;
const open: MetaTable<unknown>[] = [];

async function openTable(fsImpl?: MetaFileSystem): Promise<MetaTable<unknown>> {
  const table = await MetaTable.open(dir, 'receipts', { fs: fsImpl });
  open.push(table);
  return table;
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apogee-meta-failure-'));
});

afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((table) => table.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('MetaTable after an I/O failure', () => {
  it('fails the batch with IO_ERROR, then every queued and later mutation with STORAGE_READ_ONLY', async () => {
    const { control, fs: faulty } = faultyFs();
    const table = await openTable(faulty);
    await table.set('a', 1);

    let release!: () => void;
    control.hold = new Promise<void>((resolve) => (release = resolve));
    control.failDatasync = errno('EIO');
    const inFlight = [table.set('b', 2), table.set('c', 3)];
    await waitFor(() => control.datasyncs === 2);
    const queued = [table.delete('a'), table.compact()];
    release();

    for (const write of inFlight) await expect(write).rejects.toMatchObject({ code: 'IO_ERROR', retriable: false });
    for (const write of queued) await expect(write).rejects.toMatchObject({ code: 'STORAGE_READ_ONLY' });
    control.failDatasync = undefined;
    await expect(table.set('d', 4)).rejects.toMatchObject({ code: 'STORAGE_READ_ONLY' });
    expect(table.readOnlyError?.cause).toMatchObject({ code: 'IO_ERROR' });
    expect([...table.entries()]).toEqual([['a', 1]]);
    await table.close();

    const reopened = await openTable();
    expect(reopened.get('a')).toBe(1); // acknowledged before the failure: still there
    // b and c were rejected: their outcome is unknown (written, fdatasync failed), either is allowed.
  });

  it('reports ENOSPC on write as DISK_FULL and stays read-only', async () => {
    const { control, fs: faulty } = faultyFs();
    const table = await openTable(faulty);
    control.failWrite = errno('ENOSPC');
    await expect(table.set('a', 1)).rejects.toMatchObject({ code: 'DISK_FULL' });
    control.failWrite = undefined;
    await expect(table.set('a', 1)).rejects.toMatchObject({ code: 'STORAGE_READ_ONLY' });
  });

  it('fails compaction stickily and leaves the previous generation intact on disk', async () => {
    const { control, fs: faulty } = faultyFs();
    const table = await openTable(faulty);
    await table.set('a', 1);
    control.failRename = errno('EIO');
    await expect(table.compact()).rejects.toMatchObject({ code: 'IO_ERROR' });
    await expect(table.set('b', 2)).rejects.toMatchObject({ code: 'STORAGE_READ_ONLY' });
    await table.close();

    const reopened = await openTable();
    expect(reopened.get('a')).toBe(1);
    expect(reopened.openReport.generation).toBe(0);
    expect(reopened.openReport.removedFiles.map((file) => path.basename(file)).sort()).toEqual([
      'receipts.00000000000000000001.journal',
      'receipts.snapshot.tmp',
    ]);
  });
});
