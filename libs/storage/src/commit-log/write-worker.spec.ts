import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRecord, encodeFiller, encodeRecord, prepareRecord, type MessageInput } from '../codec/record-codec';
import { AT_CRC } from '../codec/record-layout';
import { WriteWorker } from './write-worker';

const context = { maxBodyBytes: 1 << 20, storeHost: Buffer.from('127.0.0.1:10911') };

function message(i: number): MessageInput {
  return { topic: 'ww', queueId: i % 3, body: Buffer.from(`body ${i} `.repeat(i + 1)), messageId: `ID${i}`, bornTimestampMs: 1_700_000_000_000 + i, tag: 'T' };
}

function writeWith(worker: WriteWorker, fd: number, buffers: Buffer[], position: number): Promise<number> {
  return new Promise((resolve, reject) => worker.writev(fd, buffers, position, (err, written) => (err ? reject(err) : resolve(written))));
}

describe('WriteWorker', () => {
  let dir: string;
  let worker: WriteWorker;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'apogee-write-worker-'));
    worker = new WriteWorker();
  });

  afterEach(async () => {
    await worker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stamps the CRC of every record of a batch (fillers left alone) and writes it where it is told', async () => {
    const batch = Buffer.allocUnsafeSlow(64 * 1024);
    const starts: number[] = [];
    let at = 0;
    for (let i = 0; i < 20; i++) {
      starts.push(at);
      at = encodeRecord(batch, at, prepareRecord(message(i), context), i, 4096 + at, 1_700_000_000_500, false);
    }
    encodeFiller(batch, at, 1000);
    const fillerAt = at;
    at += 8;
    const expectedFiller = Buffer.from(batch.subarray(fillerAt, fillerAt + 8));
    const fd = openSync(join(dir, 'log'), 'w+');
    try {
      // two views, split at a record boundary, written at position 4096
      const written = await writeWith(worker, fd, [batch.subarray(0, starts[7]), batch.subarray(starts[7], at)], 4096);
      expect(written).toBe(at);
      expect(batch.length).toBe(0); // moved to the thread (and back, as a new Buffer)
    } finally {
      closeSync(fd);
    }
    const file = readFileSync(join(dir, 'log')).subarray(4096);
    for (const start of starts) {
      expect(file.readUInt32BE(start + AT_CRC)).not.toBe(0);
      expect(checkRecord(file, start, 4096 + start)).toBeNull();
    }
    expect(file.subarray(fillerAt, fillerAt + 8)).toEqual(expectedFiller);
  });

  it('answers a failed write with its error, and keeps serving', async () => {
    const batch = (): Buffer => {
      const buf = Buffer.allocUnsafeSlow(1024);
      return buf.subarray(0, encodeRecord(buf, 0, prepareRecord(message(1), context), 0, 0, 1, false));
    };
    await expect(writeWith(worker, 987654, [batch()], 0)).rejects.toMatchObject({ code: 'EBADF' });
    const fd = openSync(join(dir, 'log'), 'w+');
    try {
      const second = batch();
      const bytes = second.length;
      await expect(writeWith(worker, fd, [second], 0)).resolves.toBe(bytes);
    } finally {
      closeSync(fd);
    }
  });

  it('fails a write of buffers it cannot move, through its callback', async () => {
    await expect(writeWith(worker, 1, [Buffer.from(new SharedArrayBuffer(8))], 0)).rejects.toThrow(/not SharedArrayBuffers/);
  });

  it('gives each buffer back once with the answer, the failed ones too', async () => {
    const returned = (fd: number): Promise<Buffer[]> => {
      const batch = Buffer.allocUnsafeSlow(4096);
      return new Promise((resolve) => worker.writev(fd, [batch.subarray(0, 100), batch.subarray(100, 200)], 0, (_err, _written, buffers) => resolve(buffers)));
    };
    const fd = openSync(join(dir, 'log'), 'w+');
    try {
      expect((await returned(fd)).map((b) => b.length)).toEqual([4096]);
      expect((await returned(987654)).map((b) => b.length)).toEqual([4096]);
    } finally {
      closeSync(fd);
    }
  });

  it('fails the writes in flight when the thread goes away', async () => {
    const fd = openSync(join(dir, 'log'), 'w+');
    try {
      const pending = Array.from({ length: 50 }, (_, i) => writeWith(worker, fd, [Buffer.allocUnsafeSlow(1 << 20)], i << 20));
      const stopped = (worker as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
      const outcomes = await Promise.allSettled(pending);
      await stopped;
      const failed = outcomes.filter((o) => o.status === 'rejected');
      expect(failed.length).toBeGreaterThan(0);
      expect((failed[0] as PromiseRejectedResult).reason.message).toMatch(/write thread exited/);
    } finally {
      closeSync(fd);
    }
  });
});
