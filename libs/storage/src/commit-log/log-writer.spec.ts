import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogWriter } from './log-writer';
import { Segment } from './segment';

// Writes go through the real writev, but each callback is held until the test releases it, so
// the test decides the order in which two writes in flight return.
type WritevCallback = (err: Error | null, written: number, buffers: Buffer[]) => void;
const held: Array<{ release: () => void; fail: (err: Error) => void }> = [];
jest.mock('./write-worker', () => {
  const { writev } = jest.requireActual<typeof import('node:fs')>('node:fs');
  return {
    WriteWorker: class {
      writev(fd: number, buffers: Buffer[], position: number, callback: WritevCallback): void {
        writev(fd, buffers, position, (err, written) => {
          held.push({ release: () => callback(err, written, []), fail: (e) => callback(e, 0, []) });
        });
      }
      close(): Promise<void> {
        return Promise.resolve();
      }
    },
  };
});

/** Lets every callback queued so far run (setImmediate flushes, fs callbacks). */
async function settle(until: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!until()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

describe('LogWriter with two writes in flight', () => {
  let dir: string;
  let segment: Segment;
  const written: number[] = [];
  const failures: Error[] = [];
  let writer: LogWriter;

  /** Appends `bytes` bytes of `fill` and returns the promise of their write. */
  const append = (bytes: number, fill: number): Promise<string> => {
    const at = writer.reserve(segment, bytes);
    writer.reservedBuffer.fill(fill, at, at + bytes);
    return writer.whenWritten(writer.appendedEnd, `wrote ${fill}`);
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'apogee-log-writer-'));
    segment = Segment.open(dir, 0, true);
    written.length = 0;
    failures.length = 0;
    held.length = 0;
    // maxBatchBytes 100: each 100-byte append is its own writev
    writer = new LogWriter(0, 100, { onWritten: (end) => written.push(end), onFailed: (err) => failures.push(err) });
  });

  afterEach(() => {
    segment.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('moves writtenEnd only over a written prefix, whatever order the writes return in', async () => {
    const first = append(100, 1);
    await settle(() => writer.appendedEnd === 100, 'the first reserve');
    const second = append(100, 2);
    await settle(() => held.length === 2, 'both writes to be in flight');
    let firstDone = false;
    void first.then(() => (firstDone = true));
    held[1].release(); // the second write returns first
    await new Promise((resolve) => setImmediate(resolve));
    expect(writer.writtenEnd).toBe(0);
    expect(written).toEqual([]);
    expect(firstDone).toBe(false);
    held[0].release();
    await expect(first).resolves.toBe('wrote 1');
    await expect(second).resolves.toBe('wrote 2');
    expect(writer.writtenEnd).toBe(200);
    expect(written).toEqual([200]);
    const bytes = readFileSync(segment.path);
    expect(bytes.subarray(0, 100).every((b) => b === 1) && bytes.subarray(100, 200).every((b) => b === 2)).toBe(true);
  });

  it('fails every waiter when a later write fails, and ignores the earlier one returning after', async () => {
    const first = append(100, 1);
    await settle(() => writer.appendedEnd === 100, 'the first reserve');
    const second = append(100, 2);
    await settle(() => held.length === 2, 'both writes to be in flight');
    held[1].fail(new Error('EIO: injected'));
    await expect(first).rejects.toThrow(/commit log write failed; the store is read-only: EIO: injected/);
    await expect(second).rejects.toThrow(/read-only/);
    held[0].release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(writer.writtenEnd).toBe(0);
    expect(written).toEqual([]);
    expect(failures).toHaveLength(1);
    await expect(writer.whenWritten(300, 'x')).rejects.toThrow(/read-only/);
  });
});
