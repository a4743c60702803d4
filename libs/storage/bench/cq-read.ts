import { MessageStore } from '../src/message-store';
import { progress, QUEUES, TOPIC } from './common';

/**
 * 4. Consume-queue reads by QueueOffset, on a store filled by an earlier append phase (reopened
 * cleanly): every queue read from its first entry to its end in runs of `run` entries
 * (`entries(topic, q, from, run)`), then runs from random starts, then the same sequential runs
 * through `readQueue`, which also reads and CRC-checks each commit-log record. Each part repeats
 * for at least `minMs`. The data is in the page cache (it was just written).
 */

export interface ReadOptions {
  readonly dir: string;
  readonly run: number;
  readonly minMs: number;
}

export interface ReadResult {
  readonly queueEntries: number;
  readonly sequentialEntriesPerSec: number;
  readonly randomEntriesPerSec: number;
  readonly readQueueMsgsPerSec: number;
  readonly readQueueBytesPerSec: number;
}

/** Runs `pass` until `minMs` have passed; returns units done per second. */
function timed(minMs: number, pass: () => number): number {
  const started = performance.now();
  let units = 0;
  let ms = 0;
  do {
    units += pass();
    ms = performance.now() - started;
  } while (ms < minMs);
  return units / (ms / 1000);
}

export async function measureCqReads(o: ReadOptions): Promise<ReadResult> {
  const store = await MessageStore.open({ dir: o.dir });
  try {
    const ranges = Array.from({ length: QUEUES }, (_, q) => store.queueRange(TOPIC, q));
    const queueEntries = ranges.reduce((sum, r) => sum + r.max - r.min, 0);
    if (queueEntries === 0) throw new Error(`no consume-queue entries in ${o.dir}`);

    const sequentialEntriesPerSec = timed(o.minMs, () => {
      let n = 0;
      for (let q = 0; q < QUEUES; q++) {
        for (let from = ranges[q].min; ; ) {
          const got = store.entries(TOPIC, q, from, o.run);
          if (got.length === 0) break;
          n += got.length;
          from = got[got.length - 1].queueOffset + 1;
        }
      }
      if (n !== queueEntries) throw new Error(`read ${n} entries, expected ${queueEntries}`);
      return n;
    });

    const randomEntriesPerSec = timed(o.minMs, () => {
      let n = 0;
      for (let k = 0; k < 4096; k++) {
        const q = k % QUEUES;
        const { min, max } = ranges[q];
        const from = min + Math.floor(Math.random() * Math.max(1, max - min - o.run));
        n += store.entries(TOPIC, q, from, o.run).length;
      }
      return n;
    });

    let bytes = 0;
    let msgs = 0;
    const readQueueMsgsPerSec = timed(o.minMs, () => {
      let n = 0;
      for (let q = 0; q < QUEUES; q++) {
        for (let from = ranges[q].min; ; ) {
          const got = store.readQueue(TOPIC, q, from, o.run);
          if (got.length === 0) break;
          n += got.length;
          for (const m of got) bytes += m.totalBytes;
          from = got[got.length - 1].queueOffset + 1;
        }
      }
      msgs += n;
      return n;
    });
    const readQueueBytesPerSec = readQueueMsgsPerSec * (bytes / msgs);
    progress(
      `reads: ${queueEntries} entries in ${QUEUES} queues; runs ${Math.round(sequentialEntriesPerSec)}/s, ` +
        `random ${Math.round(randomEntriesPerSec)}/s, readQueue ${Math.round(readQueueMsgsPerSec)} msgs/s`,
    );
    return { queueEntries, sequentialEntriesPerSec, randomEntriesPerSec, readQueueMsgsPerSec, readQueueBytesPerSec };
  } finally {
    await store.close();
  }
}
