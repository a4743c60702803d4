import { readFileSync } from 'node:fs';
import { MessageStore } from '../src/message-store';
import { appendPaced, messageFactory } from './common';

/**
 * Child process of the flat-memory measurement: appends `totalBytes` ASYNC into a fresh store of
 * 256 MiB segments and samples its own memory every second; prints one JSON line at the end.
 * With `retention` = 1 it deletes data as it goes: the store is told its disk is 90% full (above
 * the 85% high watermark, below the 95% critical one), so every inactive segment is deleted on the
 * next check (every second). Arguments: dir totalBytes bodyBytes maxOutstandingBytes retention.
 */

const MiB = 1 << 20;

export interface FlatMemoryReport {
  readonly recordBytes: number;
  readonly messages: number;
  readonly seconds: number;
  readonly rssSamplesMB: number[];
  readonly maxRssMB: number;
  /** Peak RSS according to the kernel (VmHWM), between samples included. */
  readonly peakRssMB: number;
  readonly maxHeapUsedMB: number;
  readonly maxArrayBuffersMB: number;
  readonly segmentsDeleted: number;
}

function vmHwmMB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function main(): Promise<void> {
  const [dir, total, body, outstanding, retention] = process.argv.slice(2);
  const rss: number[] = [];
  let maxHeap = 0;
  let maxArrayBuffers = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    rss.push(m.rss / MiB);
    maxHeap = Math.max(maxHeap, m.heapUsed / MiB);
    maxArrayBuffers = Math.max(maxArrayBuffers, m.arrayBuffers / MiB);
  };
  let segmentsDeleted = 0;
  const store = await MessageStore.open(
    { dir, flushMode: 'ASYNC', segmentBytes: 256 * MiB, retentionCheckIntervalMs: 1000 },
    {
      ...(retention === '1' ? { diskUsage: () => 0.9 } : {}),
      logger: {
        info: (fields) => {
          const deleted = (fields as { retention?: { segmentsDeleted: number } }).retention?.segmentsDeleted;
          segmentsDeleted += deleted ?? 0;
        },
        warn: () => undefined,
        error: (_fields, message) => process.stderr.write(`flat-memory-writer: ${message}\n`),
      },
    },
  );
  sample();
  const timer = setInterval(sample, 1000);
  const r = await appendPaced(store, messageFactory(Number(body)), {
    targetBytes: Number(total),
    minMs: 0,
    maxMs: 3_600_000,
    maxOutstandingBytes: Number(outstanding),
  });
  await store.close();
  clearInterval(timer);
  sample();
  const report: FlatMemoryReport = {
    recordBytes: r.recordBytes,
    messages: r.messages,
    seconds: r.ms / 1000,
    rssSamplesMB: rss.map((v) => Math.round(v)),
    maxRssMB: Math.max(...rss),
    peakRssMB: vmHwmMB(),
    maxHeapUsedMB: maxHeap,
    maxArrayBuffersMB: maxArrayBuffers,
    segmentsDeleted,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((err) => {
  process.stderr.write(`flat-memory-writer failed: ${(err as Error).stack}\n`);
  process.stdout.write(`${JSON.stringify({ error: (err as Error).message })}\n`, () => process.exit(1));
});
