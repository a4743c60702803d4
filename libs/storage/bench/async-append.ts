import { rmSync } from 'node:fs';
import { MessageStore } from '../src/message-store';
import { appendPaced, freshDir, messageFactory, progress } from './common';

/**
 * 2. ASYNC append throughput: one producer appends same-size messages with a bounded number of
 * bytes outstanding until `targetBytes` (and at least `minMs`), then closes the store, which
 * writes and fdatasyncs everything. `batch` messages go in each call: 1 is one append() per
 * message, 32 is one appendBatch() per 32 (what a SendMessage carrying 32 messages costs). The figure covers open → close done.
 */

export interface AsyncOptions {
  readonly bodyBytes: number;
  readonly targetBytes: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly maxOutstandingBytes: number;
  /** Messages per append call (1: append(); more: appendBatch()). */
  readonly batch: number;
  /** Keep the store folder (for the read measurement) instead of deleting it. */
  readonly keep?: boolean;
}

export interface AsyncResult {
  readonly dir: string;
  readonly messages: number;
  readonly recordBytes: number;
  readonly recordSize: number;
  /** Including close (final write and fdatasync). */
  readonly bytesPerSec: number;
  readonly msgsPerSec: number;
  /** Until the last append was acknowledged (written to the page cache). */
  readonly ackedBytesPerSec: number;
  readonly closeMs: number;
  readonly cpuUsPerMsg: number;
  /** Event-loop utilization (0–1) over the run: near 1 means the main thread is the bottleneck. */
  readonly elu: number;
}

export async function measureAsyncAppend(o: AsyncOptions): Promise<AsyncResult> {
  const dir = freshDir(`async-${o.bodyBytes}-${o.batch}`);
  const message = messageFactory(o.bodyBytes);
  try {
    const cpu0 = process.cpuUsage();
    const elu0 = performance.eventLoopUtilization();
    const started = performance.now();
    const store = await MessageStore.open({ dir, flushMode: 'ASYNC' });
    const r = await appendPaced(store, message, o);
    const acked = performance.now();
    await store.close();
    const closed = performance.now();
    const cpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0).utilization;
    const seconds = (closed - started) / 1000;
    const result: AsyncResult = {
      dir,
      messages: r.messages,
      recordBytes: r.recordBytes,
      recordSize: r.recordSize,
      bytesPerSec: r.recordBytes / seconds,
      msgsPerSec: r.messages / seconds,
      ackedBytesPerSec: r.recordBytes / ((acked - started) / 1000),
      closeMs: closed - acked,
      cpuUsPerMsg: (cpu.user + cpu.system) / r.messages,
      elu,
    };
    progress(
      `async ${o.bodyBytes} B ×${o.batch}: ${r.messages} msgs of ${r.recordSize} B in ${seconds.toFixed(2)} s ` +
        `(close ${result.closeMs.toFixed(0)} ms, ${result.cpuUsPerMsg.toFixed(2)} µs CPU/msg, ELU ${elu.toFixed(2)})`,
    );
    return result;
  } finally {
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
}
