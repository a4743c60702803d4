import { appendFile, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  appendEntries,
  BUCKET_MS,
  bucketFileName,
  bucketStartOf,
  bucketStartOfFileName,
  decodeEntries,
  decodeEntry,
  encodeEntry,
  ENTRY_BYTES,
  liveTimers,
  readBucketFile,
  repairBucketFile,
  type TimerEntry,
} from './timer-bucket-file';

const timer = (dueMs: number, physicalOffset: number, totalBytes = 100): TimerEntry => ({ kind: 'timer', dueMs, physicalOffset, totalBytes });
const cancel = (dueMs: number, physicalOffset: number): TimerEntry => ({ kind: 'cancel', dueMs, physicalOffset, totalBytes: 100 });

describe('timer bucket entry', () => {
  it('is ENTRY_BYTES long and round-trips, including offsets above 2^32', () => {
    const entry = timer(1_790_000_000_123, 2 ** 40 + 5, 4_194_304);
    const buf = encodeEntry(entry);
    expect(buf.length).toBe(ENTRY_BYTES);
    expect(decodeEntry(buf, 0)).toEqual(entry);
    expect(decodeEntry(encodeEntry(cancel(7, 9)), 0)).toEqual(cancel(7, 9));
  });

  it('lays the fields out as the spec says', () => {
    const buf = encodeEntry(timer(0x0102030405, 0x0a0b0c0d0e, 0x11223344));
    expect(buf.subarray(0, 8).toString('hex')).toBe('0000000102030405');
    expect(buf.subarray(8, 16).toString('hex')).toBe('0000000a0b0c0d0e');
    expect(buf.readUInt32BE(16)).toBe(0x11223344);
    expect(buf[20]).toBe(1);
    expect(buf.subarray(21, 24).toString('hex')).toBe('000000');
  });

  it('refuses a flipped byte (CRC) and stops decoding a sequence there', () => {
    const buf = Buffer.concat([encodeEntry(timer(1, 1)), encodeEntry(timer(2, 2)), encodeEntry(timer(3, 3))]);
    buf[ENTRY_BYTES + 3] ^= 0xff;
    expect(decodeEntry(buf, ENTRY_BYTES)).toBeUndefined();
    expect(decodeEntries(buf)).toEqual({ entries: [timer(1, 1)], validBytes: ENTRY_BYTES });
  });

  it('names files by the 20-digit bucket start', () => {
    expect(bucketStartOf(1_790_000_012_345)).toBe(1_790_000_010_000);
    expect(bucketFileName(1_790_000_010_000)).toBe('00000001790000010000.bucket');
    expect(bucketStartOfFileName('00000001790000010000.bucket')).toBe(1_790_000_010_000);
    expect(bucketStartOfFileName('00000001790000010001.bucket')).toBeUndefined();
    expect(bucketStartOfFileName('x.bucket.tmp')).toBeUndefined();
  });

  it('live timers drop cancelled and duplicated offsets, whatever the order', () => {
    const { timers, cancelled } = liveTimers([cancel(5, 50), timer(3, 30), timer(5, 50), timer(3, 30), timer(4, 40)]);
    expect(timers).toEqual([timer(3, 30), timer(4, 40)]);
    expect([...cancelled]).toEqual([50]);
  });
});

describe('timer bucket file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'apogee-timer-bucket-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('appends entries (reporting creation) and reads them back; a missing bucket is empty', async () => {
    const start = 10 * BUCKET_MS;
    await expect(appendEntries(dir, start, [timer(start + 1, 1), timer(start + 2, 2)])).resolves.toBe(true);
    await expect(appendEntries(dir, start, [cancel(start + 1, 1)])).resolves.toBe(false);
    await expect(readBucketFile(dir, start)).resolves.toEqual([timer(start + 1, 1), timer(start + 2, 2), cancel(start + 1, 1)]);
    await expect(readBucketFile(dir, start + BUCKET_MS)).resolves.toEqual([]);
    expect(await readdir(dir)).toEqual([bucketFileName(start)]);
  });

  it('repair cuts a torn tail (short entry or bad CRC) and leaves a whole file alone', async () => {
    const start = 20 * BUCKET_MS;
    await appendEntries(dir, start, [timer(start + 1, 1), timer(start + 2, 2)]);
    await expect(repairBucketFile(dir, start)).resolves.toBe(0);
    const file = path.join(dir, bucketFileName(start));
    await appendFile(file, encodeEntry(timer(start + 3, 3)).subarray(0, 11));
    await expect(repairBucketFile(dir, start)).resolves.toBe(11);
    expect((await stat(file)).size).toBe(2 * ENTRY_BYTES);

    const bad = encodeEntry(timer(start + 4, 4));
    bad[0] ^= 1;
    await appendFile(file, bad);
    await expect(repairBucketFile(dir, start)).resolves.toBe(ENTRY_BYTES);
    await expect(readBucketFile(dir, start)).resolves.toEqual([timer(start + 1, 1), timer(start + 2, 2)]);
    await appendEntries(dir, start, [timer(start + 5, 5)]);
    await expect(readBucketFile(dir, start)).resolves.toHaveLength(3);
  });

  it('repair of an empty file cuts nothing', async () => {
    await writeFile(path.join(dir, bucketFileName(0)), Buffer.alloc(0));
    await expect(repairBucketFile(dir, 0)).resolves.toBe(0);
  });
});
