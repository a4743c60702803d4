import {
  checkJournalHeader,
  encodeJournalHeader,
  encodeRecord,
  JOURNAL_HEADER_BYTES,
  OP_DELETE,
  OP_SET,
  RECORD_PREFIX_BYTES,
  scanJournal,
  type MetaMutation,
} from './journal-file';

const set = (key: string, value: unknown): MetaMutation => ({ op: OP_SET, key, valueJson: JSON.stringify(value) });
const del = (key: string): MetaMutation => ({ op: OP_DELETE, key });

function journalOf(...records: MetaMutation[][]): Buffer {
  return Buffer.concat([encodeJournalHeader(7), ...records.map(encodeRecord)]);
}

describe('journal header', () => {
  it('round-trips the generation, including values above 2^32', () => {
    expect(checkJournalHeader(encodeJournalHeader(7), 7)).toBeUndefined();
    expect(checkJournalHeader(encodeJournalHeader(2 ** 40 + 3), 2 ** 40 + 3)).toBeUndefined();
  });

  it('names the problem: wrong generation, bad magic, short file', () => {
    expect(checkJournalHeader(encodeJournalHeader(7), 8)).toMatch(/generation 7/);
    const bad = encodeJournalHeader(7);
    bad[0] ^= 0xff;
    expect(checkJournalHeader(bad, 7)).toBe('bad magic');
    expect(checkJournalHeader(encodeJournalHeader(7).subarray(0, 5), 7)).toMatch(/header is 5/);
  });
});

describe('scanJournal', () => {
  it('decodes records in order, with several mutations per record', () => {
    const scan = scanJournal(journalOf([set('a', { n: 1 })], [set('b', 'é'), del('a')]));
    expect(scan.stopReason).toBeUndefined();
    expect(scan.records).toEqual([
      [{ op: OP_SET, key: 'a', value: { n: 1 } }],
      [
        { op: OP_SET, key: 'b', value: 'é' },
        { op: OP_DELETE, key: 'a' },
      ],
    ]);
  });

  it('stops at every cut inside the last record and keeps the prefix', () => {
    const whole = journalOf([set('a', 1)], [set('b', [1, 2, 3])]);
    const lastStart = whole.length - encodeRecord([set('b', [1, 2, 3])]).length;
    for (let cut = lastStart + 1; cut < whole.length; cut += 1) {
      const scan = scanJournal(whole.subarray(0, cut));
      expect({ cut, records: scan.records.length, validBytes: scan.validBytes }).toEqual({ cut, records: 1, validBytes: lastStart });
      expect(scan.stopReason).toBe(cut - lastStart < RECORD_PREFIX_BYTES ? 'torn-prefix' : 'torn-payload');
    }
  });

  it('reports a flipped payload byte as a crc mismatch', () => {
    const file = journalOf([set('a', 1)], [set('b', 2)]);
    file[file.length - 1] ^= 0x01;
    expect(scanJournal(file)).toMatchObject({ records: [[{ key: 'a' }]], stopReason: 'crc-mismatch' });
  });

  it('reports a zero-filled tail (file system extended the file, data never landed) as bad length', () => {
    const file = Buffer.concat([journalOf([set('a', 1)]), Buffer.alloc(64)]);
    expect(scanJournal(file)).toMatchObject({ records: [[{ key: 'a' }]], validBytes: file.length - 64, stopReason: 'bad-length' });
  });

  it('treats an empty journal (header only) as clean', () => {
    expect(scanJournal(journalOf())).toEqual({ records: [], validBytes: JOURNAL_HEADER_BYTES });
  });
});
