/**
 * Crash suite: the last record torn at every byte. A store is written once (two full segments and
 * a third with small records; the checkpoint is taken part-way), then for each length L from the
 * start of the last record to one byte short of its end, a copy is cut to L and reopened as after a
 * crash (abort marker present, the early checkpoint restored).
 */
import { readFileSync, truncateSync } from 'node:fs';
import { join, relative } from 'node:path';
import { MessageStore, type AppendResult } from '../../src/index';
import { useTempDir } from '../temp-dir';
import { CRASH_TOPIC, checkStored, messageOf } from './crash-messages';
import { SMALL_STORE, allMessages, makeCrashState, restoreStore, segmentFiles } from './crash-store';

const QUEUES = 4;
const BIG_MESSAGES = 90; // ~12 KB each: two full 512 KiB segments and the start of a third
const SMALL_MESSAGES = 60;
const LAST_BODY_BYTES = 120; // a record of ~250 bytes: ~250 reopens
const PREFIX_BYTES = 8;

// Smaller than SMALL_STORE: each of the ~450 iterations copies the store and syncs its last segment.
const CONFIG = { ...SMALL_STORE, segmentBytes: 512 * 1024, maxBodyBytes: 16 * 1024 };

const root = useTempDir('apogee-crash-truncate-');

interface Prepared {
  readonly pristine: string;
  readonly results: AppendResult[]; // by seq
  readonly checkpointFrom: number;
}

async function appendAll(store: MessageStore, seqs: number[], bodyBytes?: (seq: number) => number): Promise<AppendResult[]> {
  return Promise.all(seqs.map((seq) => store.append(messageOf(seq, { queues: QUEUES, bodyBytes: bodyBytes?.(seq) }))));
}

async function prepare(): Promise<Prepared> {
  const pristine = join(root(), 'pristine');
  const store = await MessageStore.open({ dir: pristine, ...CONFIG });
  const seqs = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);
  const results = await appendAll(store, seqs(0, BIG_MESSAGES), (seq) => 8_000 + ((seq * 4099) % 8_000));
  await store.checkpoint();
  const early = readFileSync(join(pristine, 'checkpoint'));
  const checkpointFrom = store.maxPhysicalOffset;
  results.push(...(await appendAll(store, seqs(BIG_MESSAGES, SMALL_MESSAGES))));
  results.push(...(await appendAll(store, [BIG_MESSAGES + SMALL_MESSAGES], () => LAST_BODY_BYTES)));
  await store.close();
  makeCrashState(pristine, early);
  return { pristine, results, checkpointFrom };
}

/**
 * Cuts a copy of the pristine store at L, reopens it and checks everything; returns what it saw.
 * Only what an iteration changes is copied again: the last segment, the consume queues, the
 * checkpoint and the abort marker (earlier segments are only read).
 */
async function reopenCutAt(p: Prepared, length: number): Promise<object> {
  const work = join(root(), 'work');
  const segments = segmentFiles(p.pristine);
  const lastSegment = segments[segments.length - 1];
  restoreStore(p.pristine, work, [relative(p.pristine, lastSegment.path), 'consumequeue', 'checkpoint', 'abort']);
  truncateSync(join(work, relative(p.pristine, lastSegment.path)), length - lastSegment.base);
  const last = p.results[p.results.length - 1];
  const lastSeq = p.results.length - 1;
  const store = await MessageStore.open({ dir: work, ...CONFIG });
  try {
    const r = store.recovery;
    const seen = {
      length,
      cleanShutdown: r.cleanShutdown,
      scannedFrom: r.scannedFrom,
      logEnd: r.logEnd,
      corruptionAt: r.corruption?.offset ?? null,
      bytesCut: r.bytesCut,
      segmentsDeleted: r.segmentsDeleted,
      fileBytesAfterOpen: segmentFiles(work)[segments.length - 1].bytes,
      segmentsAfterOpen: segmentFiles(work).length,
      lastQueueMax: store.queueRange(CRASH_TOPIC, lastSeq % QUEUES).max,
    };
    // Every earlier message is there, intact, in its queue; nothing points past the end.
    const seqs: number[] = [];
    for (let q = 0; q < QUEUES; q++) {
      for (const m of allMessages(store, CRASH_TOPIC, q)) {
        const check = checkStored(m, { queues: QUEUES });
        if ('problem' in check) throw new Error(`L=${length}: ${check.problem}`);
        seqs.push(check.seq);
      }
    }
    expect(seqs.sort((a, b) => a - b)).toEqual([...Array(lastSeq).keys()]);
    // The store takes new appends where the torn record was.
    const again = await store.append(messageOf(lastSeq, { queues: QUEUES, bodyBytes: LAST_BODY_BYTES }));
    expect({ length, physicalOffset: again.physicalOffset, queueOffset: again.queueOffset }).toEqual({
      length,
      physicalOffset: last.physicalOffset,
      queueOffset: last.queueOffset,
    });
    expect(checkStored(store.read(again.physicalOffset), { queues: QUEUES })).toEqual({ seq: lastSeq });
    return seen;
  } finally {
    await store.close();
  }
}

function expected(p: Prepared, length: number, segmentCount: number): object {
  const last = p.results[p.results.length - 1];
  const lastSegmentBase = segmentFiles(p.pristine)[segmentCount - 1].base;
  return {
    length,
    cleanShutdown: false,
    scannedFrom: p.checkpointFrom,
    logEnd: last.physicalOffset,
    corruptionAt: length === last.physicalOffset ? null : last.physicalOffset,
    bytesCut: length - last.physicalOffset,
    segmentsDeleted: 0,
    fileBytesAfterOpen: last.physicalOffset - lastSegmentBase,
    segmentsAfterOpen: segmentCount,
    lastQueueMax: last.queueOffset,
  };
}

describe('crash: the last record torn at every byte', () => {
  it('recovers the prefix before the torn record and reports the cut, from its 8-byte prefix on', async () => {
    const p = await prepare();
    const segments = segmentFiles(p.pristine);
    expect(segments.length).toBeGreaterThanOrEqual(3);
    const last = p.results[p.results.length - 1];
    expect(last.physicalOffset).toBeGreaterThan(p.checkpointFrom); // the scan, not the checkpoint, finds the tear
    const lengths = [last.physicalOffset];
    for (let l = last.physicalOffset + PREFIX_BYTES; l < last.physicalOffset + last.totalBytes; l++) lengths.push(l);
    for (const length of lengths) {
      expect(await reopenCutAt(p, length)).toEqual(expected(p, length, segments.length));
    }
  }, 40_000);

  it('cuts and reports a torn tail shorter than a record prefix (1–7 bytes)', async () => {
    const p = await prepare();
    const segments = segmentFiles(p.pristine);
    const last = p.results[p.results.length - 1];
    for (let length = last.physicalOffset + 1; length < last.physicalOffset + PREFIX_BYTES; length++) {
      expect(await reopenCutAt(p, length)).toEqual(expected(p, length, segments.length));
    }
  });
});
