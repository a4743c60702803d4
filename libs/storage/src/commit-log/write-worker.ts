import { Worker } from 'node:worker_threads';
import { AT_CRC, AT_RECORD_TYPE, AT_TOTAL_BYTES, CRC_FROM, PREFIX_BYTES, RECORD_TYPE_FILLER } from '../codec/record-layout';

/**
 * The commit log's write thread: it stamps each record's CRC, then writes the batch with one
 * positional `writevSync`. The event loop encodes records without their CRC (the costliest step of
 * an append left on it) and hands over whole batches, so encoding and CRC + write run on two cores.
 *
 * Batches move between the threads, not their bytes: each batch buffer's ArrayBuffer is
 * transferred to the worker and back with the answer (then it goes back to the pool). Not
 * SharedArrayBuffers: copying a body into one costs ten times a plain copy in V8. The worker reads
 * only what it is handed: whole records and segment-end fillers (whose prefix is the last thing in
 * a batch), laid out as in record-layout.ts.
 *
 * Its source is evaluated from this string (node built-ins and the CRC module, resolved by the
 * caller), so bundles need no extra file. A failed write answers that write with its error; a
 * worker that dies fails every write in flight.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { writevSync } = require('node:fs');
const { crc32 } = require(workerData.crcModule);
function stampCrcs(view) {
  let p = 0;
  while (p + ${PREFIX_BYTES} <= view.length) {
    if (view[p + ${AT_RECORD_TYPE}] === ${RECORD_TYPE_FILLER}) { p += ${PREFIX_BYTES}; continue; }
    const total = view.readInt32BE(p + ${AT_TOTAL_BYTES});
    if (total < ${PREFIX_BYTES} || p + total > view.length) throw new Error('a batch holds a record cut at byte ' + p);
    view.writeUInt32BE(crc32(view.subarray(p + ${CRC_FROM}, p + total)), p + ${AT_CRC});
    p += total;
  }
}
parentPort.on('message', (job) => {
  const buffers = [...new Set(job.parts.map((part) => part.buffer))];
  try {
    const views = job.parts.map((part) => Buffer.from(part.buffer, part.offset, part.length));
    for (const view of views) stampCrcs(view);
    parentPort.postMessage({ id: job.id, written: writevSync(job.fd, views, job.position), buffers }, buffers);
  } catch (err) {
    parentPort.postMessage({ id: job.id, message: String((err && err.message) || err), code: err && err.code, buffers }, buffers);
  }
});
`;

/** `buffers`: the batch buffers handed over, back for reuse (empty when the thread died). */
export type WriteCallback = (err: Error | null, written: number, buffers: Buffer[]) => void;

interface Answer {
  readonly id: number;
  readonly written?: number;
  readonly message?: string;
  readonly code?: string;
  readonly buffers: ArrayBuffer[];
}

export class WriteWorker {
  private readonly worker: Worker;
  private readonly callbacks = new Map<number, WriteCallback>();
  private nextId = 0;
  private closing = false;

  constructor() {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { crcModule: require.resolve('@node-rs/crc32') } });
    this.worker.unref(); // only writes in flight keep the process alive
    this.worker.on('message', (answer: Answer) => {
      const callback = this.callbacks.get(answer.id);
      if (!callback) return;
      this.callbacks.delete(answer.id);
      if (this.callbacks.size === 0) this.worker.unref();
      const buffers = answer.buffers.map((b) => Buffer.from(b));
      if (answer.written !== undefined) callback(null, answer.written, buffers);
      else callback(Object.assign(new Error(answer.message ?? 'write failed'), { code: answer.code }), 0, buffers);
    });
    this.worker.on('error', (err: unknown) =>
      this.failAll(err instanceof Error ? err : new Error(`the commit log's write thread failed: ${JSON.stringify(err)}`)),
    );
    this.worker.on('exit', (code) => {
      if (!this.closing) this.failAll(new Error(`the commit log's write thread exited (code ${code})`));
    });
  }

  /**
   * Stamps the CRC of every record in `views`, then writes them at `position` of `fd`; `callback`
   * gets the bytes written or the error, and the buffers back. Each view's ArrayBuffer must be one
   * of its own (a BatchPool buffer, not Node's shared pool): it moves to the thread, so every
   * Buffer over it is empty (detached) until it comes back. Views that cannot move fail the write
   * (through `callback`, as any write failure), they do not throw.
   */
  writev(fd: number, views: readonly Buffer[], position: number, callback: WriteCallback): void {
    const parts = views.map((v) => ({ buffer: v.buffer, offset: v.byteOffset, length: v.length }));
    const transfer = [...new Set(parts.map((p) => p.buffer))];
    const id = this.nextId++;
    try {
      if (transfer.some((b) => b instanceof SharedArrayBuffer)) throw new Error('the write thread takes buffers it can move, not SharedArrayBuffers');
      this.worker.postMessage({ id, fd, position, parts }, transfer as ArrayBuffer[]);
    } catch (err) {
      setImmediate(() => callback(err as Error, 0, []));
      return;
    }
    if (this.callbacks.size === 0) this.worker.ref();
    this.callbacks.set(id, callback);
  }

  /** Stops the thread once nothing is in flight (the caller drains first). */
  async close(): Promise<void> {
    this.closing = true;
    await this.worker.terminate();
  }

  private failAll(err: Error): void {
    const callbacks = [...this.callbacks.values()];
    this.callbacks.clear();
    this.worker.unref();
    for (const callback of callbacks) callback(err, 0, []);
  }
}
