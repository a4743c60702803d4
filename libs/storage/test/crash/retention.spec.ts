/**
 * Retention with an injected clock and disk-usage probe: expired segments go (never the active
 * one) and take the consume-queue files that point only into them; a disk above the high
 * watermark loses its oldest segments early; above the critical watermark appends are refused.
 */
import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { MessageStore, type AppendResult } from '../../src/index';
import { useTempDir } from '../temp-dir';
import { CRASH_TOPIC, checkStored, messageOf } from './crash-messages';
import { SMALL_STORE, exists, segmentFiles } from './crash-store';

const HOUR_MS = 3_600_000;
const T0 = 1_800_000_000_000; // the injected "now"
const QUEUES = 2;
const CQ_ENTRIES = 16;
const CONFIG = { ...SMALL_STORE, cqEntriesPerSegment: CQ_ENTRIES, retentionMs: HOUR_MS };

const root = useTempDir('apogee-crash-retention-');

/** ~5 MB of ~20 KB messages in two queues: five 1 MiB segments. */
async function fill(store: MessageStore): Promise<AppendResult[]> {
  return Promise.all(Array.from({ length: 250 }, (_, seq) => store.append(messageOf(seq, { queues: QUEUES, bodyBytes: 20_000 }))));
}

/** Sets the last-write time retention looks at, per segment file. */
function ageSegments(dir: string, ages: number[]): void {
  segmentFiles(dir).forEach((s, i) => {
    const seconds = (T0 - (ages[i] ?? 0)) / 1000;
    utimesSync(s.path, seconds, seconds);
  });
}

/** Per queue: the first QueueOffset whose record is at or after `logMin`. */
function firstKept(results: AppendResult[], logMin: number): number[] {
  return Array.from({ length: QUEUES }, (_, q) => {
    const kept = results.filter((r, seq) => seq % QUEUES === q && r.physicalOffset >= logMin);
    return kept[0].queueOffset;
  });
}

describe('retention', () => {
  it('deletes expired segments, never the active one, with the queue files that point only into them', async () => {
    const dir = join(root(), 'store');
    let now = T0;
    const store = await MessageStore.open({ dir, ...CONFIG }, { now: () => now, diskUsage: () => 0.1 });
    try {
      const results = await fill(store);
      const before = segmentFiles(dir);
      expect(before).toHaveLength(5);
      ageSegments(dir, [3 * HOUR_MS, 2 * HOUR_MS, HOUR_MS / 2, 0, 0]);
      const r = store.runRetention();
      expect(r).toMatchObject({ segmentsDeleted: 2, reasons: ['expired', 'expired'], minOffset: before[2].base });
      expect(r.bytesFreed).toBe(before[0].bytes + before[1].bytes);
      expect(segmentFiles(dir).map((s) => s.base)).toEqual(before.slice(2).map((s) => s.base));
      expect(store.minPhysicalOffset).toBe(before[2].base);

      const mins = firstKept(results, before[2].base);
      expect([0, 1].map((q) => store.queueRange(CRASH_TOPIC, q))).toEqual(mins.map((min) => ({ min, max: 125 })));
      expect(r.consumeQueueSegmentsDeleted).toBe(mins.reduce((n, min) => n + Math.floor(min / CQ_ENTRIES), 0));
      for (let q = 0; q < QUEUES; q++) {
        const [first] = store.readQueue(CRASH_TOPIC, q, 0, 1); // from 0: starts at the new min
        expect(first.queueOffset).toBe(mins[q]);
        expect(checkStored(first, { queues: QUEUES })).toEqual({ seq: mins[q] * QUEUES + q });
      }
      expect(() => store.read(results[0].physicalOffset)).toThrow(expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE' }));

      // Everything expired: all but the active segment go; the store keeps working.
      now = T0 + 10 * HOUR_MS;
      expect(store.runRetention().segmentsDeleted).toBe(2);
      expect(segmentFiles(dir).map((s) => s.base)).toEqual([before[4].base]);
      expect(checkStored(store.read(results[249].physicalOffset), { queues: QUEUES })).toEqual({ seq: 249 });
      const next = await store.append(messageOf(250, { queues: QUEUES, bodyBytes: 20_000 }));
      expect(next.queueOffset).toBe(125);
      expect(store.runRetention().segmentsDeleted).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('deletes the oldest segments early while the disk is above the high watermark', async () => {
    const dir = join(root(), 'store');
    const usage = (): number => (segmentFiles(dir).length > 3 ? 0.9 : 0.5); // each segment ~ a few %
    const store = await MessageStore.open({ dir, ...CONFIG }, { now: () => T0, diskUsage: usage });
    try {
      await fill(store);
      ageSegments(dir, [0, 0, 0, 0, 0]);
      const before = segmentFiles(dir);
      const r = store.runRetention();
      expect(r).toMatchObject({ segmentsDeleted: 2, reasons: ['disk-high', 'disk-high'], minOffset: before[2].base });
      expect(store.runRetention().segmentsDeleted).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('refuses appends with DISK_FULL above the critical watermark until retention frees space', async () => {
    const dir = join(root(), 'store');
    let usage = 0.5;
    const store = await MessageStore.open({ dir, ...CONFIG }, { now: () => T0, diskUsage: () => usage });
    try {
      await fill(store);
      ageSegments(dir, [0, 0, 0, 0, 0]);
      usage = 0.97;
      const r = store.runRetention();
      expect(r.reasons.every((reason) => reason === 'disk-high')).toBe(true);
      expect(segmentFiles(dir)).toHaveLength(1); // still above: every inactive segment went
      const refused = await (async () => store.append(messageOf(250)))().catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'DISK_FULL', retriable: true });
      usage = 0.5;
      store.runRetention();
      const next = await store.append(messageOf(250, { queues: QUEUES }));
      expect(checkStored(store.read(next.physicalOffset), { queues: QUEUES })).toEqual({ seq: 250 });
    } finally {
      await store.close();
    }
    expect(exists(dir, 'abort')).toBe(false);
  });

  it('ASYNC: deleting segments that were written but not yet synced does not fail the store', async () => {
    const dir = join(root(), 'store');
    const store = await MessageStore.open(
      { dir, ...CONFIG, flushMode: 'ASYNC', flushIntervalMs: HOUR_MS },
      { now: () => T0 + 10 * HOUR_MS, diskUsage: () => 0.1 },
    );
    await fill(store); // acknowledged once written; no fdatasync yet
    expect(store.syncedPhysicalOffset).toBe(0);
    ageSegments(dir, [2 * HOUR_MS, 2 * HOUR_MS, 2 * HOUR_MS, 2 * HOUR_MS, 0]);
    expect(store.runRetention().segmentsDeleted).toBe(4);
    const next = await store.append(messageOf(250, { queues: QUEUES }));
    await expect(store.close()).resolves.toBeUndefined();
    expect(exists(dir, 'abort')).toBe(false); // a clean close, not a failed store
    const reopened = await MessageStore.open({ dir, ...CONFIG });
    try {
      expect(reopened.recovery.cleanShutdown).toBe(true);
      expect(checkStored(reopened.read(next.physicalOffset), { queues: QUEUES })).toEqual({ seq: 250 });
    } finally {
      await reopened.close();
    }
  });
});
