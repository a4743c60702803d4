import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { encodeJournalHeader, encodeRecord, OP_SET } from './journal-file';
import { MetaTable } from './meta-table';

const TABLE = 'groups';
let dir: string;
const open: MetaTable<unknown>[] = [];

async function openTable(): Promise<MetaTable<unknown>> {
  const table = await MetaTable.open(dir, TABLE);
  open.push(table);
  return table;
}

const journalFile = (generation = 0): string => path.join(dir, `${TABLE}.${String(generation).padStart(20, '0')}.journal`);
const snapshotFile = (): string => path.join(dir, `${TABLE}.snapshot`);
const recordBytes = (key: string, value: unknown): number => encodeRecord([{ op: OP_SET, key, valueJson: JSON.stringify(value) }]).length;

/** Writes keys k0..k(n-1) one record each, closes, and returns the journal's bytes. */
async function writeKeys(count: number): Promise<Buffer> {
  const table = await openTable();
  for (let i = 0; i < count; i += 1) await table.set(`k${i}`, { i });
  await table.close();
  return fs.readFileSync(journalFile());
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apogee-meta-recovery-'));
});

afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((table) => table.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('MetaTable recovery', () => {
  it('truncates the last record cut at every byte, keeps the prefix and reports the cut', async () => {
    const whole = await writeKeys(3);
    const lastStart = whole.length - recordBytes('k2', { i: 2 });
    for (let cut = lastStart; cut <= whole.length; cut += 1) {
      fs.writeFileSync(journalFile(), whole.subarray(0, cut));
      const table = await openTable();
      const complete = cut === whole.length;
      expect({ cut, keys: [...table.entries()].map(([key]) => key) }).toEqual({ cut, keys: complete ? ['k0', 'k1', 'k2'] : ['k0', 'k1'] });
      expect(table.openReport).toMatchObject({ truncatedBytes: complete ? 0 : cut - lastStart, journalBytes: complete ? cut : lastStart });
      expect(fs.statSync(journalFile()).size).toBe(complete ? cut : lastStart);
      await table.close();
    }
  });

  it('drops and reports everything after a flipped byte in the middle of the journal', async () => {
    const whole = await writeKeys(10);
    const oneRecord = recordBytes('k0', { i: 0 });
    const fifthStart = whole.length - 5 * oneRecord;
    whole[fifthStart + oneRecord - 2] ^= 0x20; // inside the value JSON of k5
    fs.writeFileSync(journalFile(), whole);
    let table = await openTable();
    expect([...table.entries()].map(([key]) => key)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    expect(table.openReport).toMatchObject({ journalRecords: 5, truncatedBytes: 5 * oneRecord, truncateReason: 'crc-mismatch' });
    await table.set('after', true);
    await table.close();
    table = await openTable();
    expect(table.get('after')).toBe(true);
    expect(table.openReport).toMatchObject({ journalRecords: 6, truncatedBytes: 0 });
  });

  it('refuses to open a corrupt snapshot', async () => {
    const table = await openTable();
    await table.set('topic', { queues: 4 });
    await table.compact();
    await table.close();
    const snapshot = fs.readFileSync(snapshotFile());
    snapshot[snapshot.length - 3] ^= 0x01;
    fs.writeFileSync(snapshotFile(), snapshot);
    await expect(openTable()).rejects.toMatchObject({ code: 'CORRUPT_METADATA', message: expect.stringMatching(/snapshot .* is corrupt \(crc mismatch\)/) });
    fs.writeFileSync(snapshotFile(), snapshot.subarray(0, 10));
    await expect(openTable()).rejects.toMatchObject({ code: 'CORRUPT_METADATA' });
  });

  it('refuses to open when the snapshot is missing but a journal holds records', async () => {
    await writeKeys(1);
    fs.rmSync(snapshotFile());
    await expect(openTable()).rejects.toMatchObject({ code: 'CORRUPT_METADATA', message: expect.stringMatching(/no snapshot names it/) });
  });

  it('refuses to open when the journal named by the snapshot is missing', async () => {
    await writeKeys(1);
    fs.rmSync(journalFile());
    await expect(openTable()).rejects.toMatchObject({ code: 'CORRUPT_METADATA', message: expect.stringMatching(/missing/) });
  });

  it('deletes what a crash mid-compaction leaves behind: .snapshot.tmp and an uncommitted journal', async () => {
    await writeKeys(2);
    fs.writeFileSync(`${snapshotFile()}.tmp`, 'half a snapshot');
    fs.writeFileSync(journalFile(1), encodeJournalHeader(1));
    const table = await openTable();
    expect(table.size).toBe(2);
    expect(table.openReport.removedFiles.map((file) => path.basename(file)).sort()).toEqual([
      `${TABLE}.00000000000000000001.journal`,
      `${TABLE}.snapshot.tmp`,
    ]);
    expect(fs.readdirSync(dir).sort()).toEqual([path.basename(journalFile(0)), path.basename(snapshotFile())]);
  });

  it('deletes a superseded journal whose unlink did not survive the crash', async () => {
    const table = await openTable();
    await table.set('a', 1);
    const before = fs.readFileSync(journalFile(0));
    await table.compact();
    await table.close();
    fs.writeFileSync(journalFile(0), before);
    const reopened = await openTable();
    expect(reopened.get('a')).toBe(1);
    expect(reopened.openReport.removedFiles).toEqual([journalFile(0)]);
  });
});
