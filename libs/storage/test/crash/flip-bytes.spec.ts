/**
 * Crash suite: flipped bytes. A corrupt record that the recovery scan reaches cuts the log there
 * (everything before it intact, everything after it reported and gone); one that lies before the
 * scan start is never served: every read of it answers CORRUPT_RECORD.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { MessageStore, StorageError, type AppendResult } from '../../src/index';
import { useTempDir } from '../temp-dir';
import { CRASH_TOPIC, checkStored, messageOf, type MessageShape } from './crash-messages';
import {
  SMALL_STORE,
  allMessages,
  flipByte,
  makeCrashState,
  queueSnapshot,
  restoreStore,
  segmentFiles,
  writeBytes,
} from './crash-store';

const QUEUES = 4;
const HEADER_BYTES = 68; // FIXED_BYTES of record-layout.ts: every header byte is flipped in turn
const AT_RECORD_TYPE = 7;
const PREFIX_BYTES = 8;

const root = useTempDir('apogee-crash-flip-');

async function writeStore(dir: string, seqs: readonly number[], shape: MessageShape): Promise<AppendResult[]> {
  const store = await MessageStore.open({ dir, ...SMALL_STORE });
  const results = await Promise.all(seqs.map((seq) => store.append(messageOf(seq, shape))));
  await store.close();
  return results;
}

/** ~4 MB of 10–30 KB messages: four 1 MiB segments. */
async function writeBigStore(dir: string): Promise<AppendResult[]> {
  const seqs = [...Array(200).keys()];
  const store = await MessageStore.open({ dir, ...SMALL_STORE });
  const results = await Promise.all(
    seqs.map((seq) => store.append(messageOf(seq, { queues: QUEUES, bodyBytes: 10_000 + ((seq * 7919) % 20_000) }))),
  );
  await store.close();
  return results;
}

/** Byte positions inside a record to corrupt: every header byte, then some of the variable part. */
function positionsIn(totalBytes: number): { at: number; mask: number }[] {
  const out = Array.from({ length: HEADER_BYTES }, (_, at) => ({ at, mask: 0xff }));
  out.push({ at: AT_RECORD_TYPE, mask: 0x01 }); // message → filler
  for (const at of [HEADER_BYTES, HEADER_BYTES + 10, totalBytes >> 1, totalBytes - 2, totalBytes - 1]) out.push({ at, mask: 0xff });
  return out;
}

/** What a call does: 'ok', or the StorageError code it threw. */
function outcome(call: () => unknown): string {
  try {
    call();
    return 'ok';
  } catch (err) {
    return err instanceof StorageError ? err.code : `not a StorageError: ${String(err)}`;
  }
}

function sortedSeqs(store: MessageStore, queues: number, shape: MessageShape = {}): number[] {
  const seqs: number[] = [];
  for (let q = 0; q < queues; q++) {
    for (const m of allMessages(store, shape.topic ?? CRASH_TOPIC, q)) {
      const check = checkStored(m, shape);
      if ('problem' in check) throw new Error(check.problem);
      seqs.push(check.seq);
    }
  }
  return seqs.sort((a, b) => a - b);
}

describe('crash: flipped bytes', () => {
  it('cuts the log at a corrupt record the recovery scan finds, whichever byte of it is flipped', async () => {
    const pristine = join(root(), 'pristine');
    const results = await writeBigStore(pristine);
    makeCrashState(pristine); // no checkpoint: the scan reads the whole log
    const segments = segmentFiles(pristine);
    expect(segments.length).toBe(4);
    const hit = segments[1];
    const targetSeq = results.findIndex((r) => r.physicalOffset >= hit.base + hit.bytes / 2);
    const target = results[targetSeq];
    const later = segments.slice(2);
    const bytesCut = hit.bytes - (target.physicalOffset - hit.base) + later.reduce((n, s) => n + s.bytes, 0);
    const changed = [...segments.slice(1).map((s) => relative(pristine, s.path)), 'consumequeue', 'checkpoint', 'abort'];
    const work = join(root(), 'work');
    for (const { at, mask } of positionsIn(target.totalBytes)) {
      restoreStore(pristine, work, changed);
      flipByte(join(work, relative(pristine, hit.path)), target.physicalOffset - hit.base + at, mask);
      const store = await MessageStore.open({ dir: work, ...SMALL_STORE });
      try {
        const r = store.recovery;
        expect({
          at,
          mask,
          corruptionAt: r.corruption?.offset,
          logEnd: r.logEnd,
          bytesCut: r.bytesCut,
          segmentsDeleted: r.segmentsDeleted,
          recordsScanned: r.recordsScanned,
          consumeQueueEntriesCut: r.consumeQueueEntriesCut,
          files: segmentFiles(work).map((s) => [s.base, s.bytes]),
          queueMax: [0, 1, 2, 3].map((q) => store.queueRange(CRASH_TOPIC, q).max),
        }).toEqual({
          at,
          mask,
          corruptionAt: target.physicalOffset,
          logEnd: target.physicalOffset,
          bytesCut,
          segmentsDeleted: later.length,
          recordsScanned: targetSeq,
          consumeQueueEntriesCut: results.length - targetSeq,
          files: [...segments.slice(0, 1).map((s) => [s.base, s.bytes]), [hit.base, target.physicalOffset - hit.base]],
          queueMax: [0, 1, 2, 3].map((q) => Math.ceil((targetSeq - q) / QUEUES)),
        });
        expect(sortedSeqs(store, QUEUES, { queues: QUEUES })).toEqual([...Array(targetSeq).keys()]);
        const again = await store.append(messageOf(targetSeq, { queues: QUEUES }));
        expect(again.physicalOffset).toBe(target.physicalOffset);
        expect(checkStored(store.read(again.physicalOffset), { queues: QUEUES })).toEqual({ seq: targetSeq });
      } finally {
        await store.close();
      }
    }
  }, 30_000);

  it('never serves a record corrupted before the scan start (clean shutdown): reads answer CORRUPT_RECORD', async () => {
    const dir = join(root(), 'store');
    const results = await writeBigStore(dir);
    const store = await MessageStore.open({ dir, ...SMALL_STORE });
    try {
      expect(store.recovery).toMatchObject({ cleanShutdown: true, recordsScanned: 0, corruption: null });
      const segments = segmentFiles(dir);
      const targetSeq = results.findIndex((r) => r.physicalOffset >= segments[1].base + segments[1].bytes / 2);
      const target = results[targetSeq];
      const queueId = targetSeq % QUEUES;
      const path = segments[1].path;
      const fileAt = (at: number): number => target.physicalOffset - segments[1].base + at;
      const reads = {
        withSize: () => store.read(target.physicalOffset, target.totalBytes),
        readQueue: () => store.readQueue(CRASH_TOPIC, queueId, target.queueOffset, 1),
        readQueueAcross: () => store.readQueue(CRASH_TOPIC, queueId, target.queueOffset - 2, 5),
      };
      const seen: object[] = [];
      const want: object[] = [];
      for (const { at, mask } of positionsIn(target.totalBytes)) {
        flipByte(path, fileAt(at), mask);
        seen.push({ at, mask, ...Object.fromEntries(Object.entries(reads).map(([name, call]) => [name, outcome(call)])) });
        want.push({ at, mask, ...Object.fromEntries(Object.keys(reads).map((name) => [name, 'CORRUPT_RECORD'])) });
        // The neighbours read fine, and so does the record once its byte is restored.
        expect(checkStored(store.read(results[targetSeq - 1].physicalOffset))).toEqual({ seq: targetSeq - 1 });
        expect(checkStored(store.read(results[targetSeq + 1].physicalOffset))).toEqual({ seq: targetSeq + 1 });
        expect(store.readQueue(CRASH_TOPIC, queueId, 0, target.queueOffset).map((m) => m.queueOffset)).toEqual([
          ...Array(target.queueOffset).keys(),
        ]);
        expect(store.readQueue(CRASH_TOPIC, queueId, target.queueOffset + 1, 3)).toHaveLength(3);
        flipByte(path, fileAt(at), mask);
        expect(checkStored(store.read(target.physicalOffset))).toEqual({ seq: targetSeq });
      }
      expect(seen).toEqual(want);
    } finally {
      await store.close();
    }
  });

  it('answers CORRUPT_RECORD, not OFFSET_OUT_OF_RANGE, when read by PhysicalOffset alone and the size field is corrupt', async () => {
    const dir = join(root(), 'store');
    const results = await writeBigStore(dir);
    const store = await MessageStore.open({ dir, ...SMALL_STORE });
    try {
      const segments = segmentFiles(dir);
      const seen: object[] = [];
      const want: object[] = [];
      // A record in the middle of the log, and the last record (nothing written after it).
      const targets = [results.findIndex((r) => r.physicalOffset >= segments[1].base + segments[1].bytes / 2), results.length - 1];
      for (const seq of targets) {
        const target = results[seq];
        const segment = segments.filter((s) => s.base <= target.physicalOffset).pop() as (typeof segments)[number];
        for (let at = 0; at < 4; at++) {
          for (const mask of [0xff, 0x80, 0x10, 0x01]) {
            flipByte(segment.path, target.physicalOffset - segment.base + at, mask);
            seen.push({ seq, at, mask, read: outcome(() => store.read(target.physicalOffset)) });
            want.push({ seq, at, mask, read: 'CORRUPT_RECORD' });
            flipByte(segment.path, target.physicalOffset - segment.base + at, mask);
          }
        }
      }
      expect(seen).toEqual(want);
    } finally {
      await store.close();
    }
  });

  it('ignores a corrupt checkpoint: recovery scans the whole log and the queues come out the same', async () => {
    const dir = join(root(), 'store');
    const results = await writeStore(dir, [...Array(300).keys()], { queues: QUEUES });
    let store = await MessageStore.open({ dir, ...SMALL_STORE });
    const before = queueSnapshot(store);
    await store.close();
    flipByte(join(dir, 'checkpoint'), 12); // inside logSyncedOffset
    makeCrashState(dir, readFileSync(join(dir, 'checkpoint')));
    store = await MessageStore.open({ dir, ...SMALL_STORE });
    try {
      expect(store.recovery).toMatchObject({ checkpoint: null, scannedFrom: 0, recordsScanned: 300, corruption: null });
      expect(store.recovery.logEnd).toBe(results[299].physicalOffset + results[299].totalBytes);
      expect(queueSnapshot(store)).toEqual(before);
    } finally {
      await store.close();
    }
  });

  describe('zeros over a record prefix in the last segment, with records after them', () => {
    // Same-size records (3-digit seqs, fixed body), one queue, one segment.
    const shape: MessageShape = { queues: 1, bodyBytes: 500 };
    const seqs = Array.from({ length: 60 }, (_, i) => 100 + i);
    const k = 40; // the record whose prefix is zeroed: an unwritten block, as after a power loss

    async function prepare(): Promise<{ dir: string; results: AppendResult[] }> {
      const dir = join(root(), 'store');
      const results = await writeStore(dir, seqs, shape);
      expect(new Set(results.map((r) => r.totalBytes)).size).toBe(1);
      makeCrashState(dir);
      const segment = segmentFiles(dir)[0];
      writeBytes(segment.path, results[k].physicalOffset - segment.base, Buffer.alloc(PREFIX_BYTES));
      return { dir, results };
    }

    it('are reported as corruption, and the bytes after them are cut and counted', async () => {
      const { dir, results } = await prepare();
      const oldEnd = results[results.length - 1].physicalOffset + results[results.length - 1].totalBytes;
      const store = await MessageStore.open({ dir, ...SMALL_STORE });
      try {
        expect({
          corruptionAt: store.recovery.corruption?.offset ?? null,
          logEnd: store.recovery.logEnd,
          bytesCut: store.recovery.bytesCut,
          fileBytes: segmentFiles(dir)[0].bytes,
        }).toEqual({
          corruptionAt: results[k].physicalOffset,
          logEnd: results[k].physicalOffset,
          bytesCut: oldEnd - results[k].physicalOffset,
          fileBytes: results[k].physicalOffset,
        });
      } finally {
        await store.close();
      }
    });

    it('never come back: records recovery dropped stay dropped after more appends and a clean restart', async () => {
      const { dir } = await prepare();
      let store = await MessageStore.open({ dir, ...SMALL_STORE });
      const kept = store.queueRange(CRASH_TOPIC, 0).max;
      expect(kept).toBe(k);
      await store.append(messageOf(100 + k, shape)); // lands where the zeroed record was, same size
      await store.close();
      store = await MessageStore.open({ dir, ...SMALL_STORE });
      try {
        expect(store.recovery.cleanShutdown).toBe(true);
        expect({ max: store.queueRange(CRASH_TOPIC, 0).max, seqs: sortedSeqs(store, 1, shape) }).toEqual({
          max: k + 1,
          seqs: seqs.slice(0, k + 1),
        });
      } finally {
        await store.close();
      }
    });
  });
});
