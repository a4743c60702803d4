import { cpSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { useTempDir } from '../test/temp-dir';
import { allMessages, queueSnapshot, segmentFiles } from '../test/crash/crash-store';
import type { MessageInput } from './codec/record-codec';
import { MessageStore, type AppendResult } from './message-store';
import type { StoreConfig } from './store-config';
import type { TruncateResult } from './truncate';

const root = useTempDir('apogee-truncate-');
const SEGMENT_BYTES = 288 * 1024; // the smallest the config allows above maxBodyBytes
const HOUR_MS = 3_600_000;
const STORE: Omit<Partial<StoreConfig>, 'dir'> = {
  segmentBytes: SEGMENT_BYTES,
  maxBodyBytes: 31 * 1024,
  cqEntriesPerSegment: 16,
  flushMode: 'SYNC',
  checkpointIntervalMs: HOUR_MS,
  retentionCheckIntervalMs: HOUR_MS,
};
const QUEUES = 3;

/** Message i of `origin`: mixed body sizes, so that 60 messages span several segments. */
function msg(i: number, origin = 'a'): MessageInput {
  return {
    topic: i % 4 === 0 ? 'audit' : 'orders',
    queueId: i % QUEUES,
    body: Buffer.alloc([10, 9000, 30_000, 500, 20_000][i % 5], i & 0xff),
    messageId: `${origin}${String(i).padStart(6, '0')}`,
    bornTimestampMs: 1_700_000_000_000 + i,
    keys: [`k${i}`],
    tag: i % 2 === 0 ? 'A' : 'B',
  };
}

async function open(name: string): Promise<MessageStore> {
  return MessageStore.open({ dir: join(root(), name), ...STORE });
}

async function appendAll(store: MessageStore, from: number, count: number, origin = 'a'): Promise<AppendResult[]> {
  const out: AppendResult[] = [];
  for (let i = from; i < from + count; i++) out.push(await store.append(msg(i, origin)));
  return out;
}

/** Copies the master's log to the slave from the slave's end. */
async function replicate(master: MessageStore, slave: MessageStore): Promise<void> {
  for (let from = slave.maxPhysicalOffset; ; ) {
    const { bytes, next } = master.readLogBytes(from, 64 * 1024);
    if (bytes.length === 0) return;
    expect(await slave.appendReplicated(from, bytes)).toBe(next);
    from = next;
  }
}

/** The whole readable log, as readLogBytes hands it out. */
function wholeLog(store: MessageStore): Buffer {
  const parts: Buffer[] = [];
  for (let from = store.minPhysicalOffset; ; ) {
    const { bytes, next } = store.readLogBytes(from, 1 << 20);
    if (bytes.length === 0) return Buffer.concat(parts);
    parts.push(bytes);
    from = next;
  }
}

/** Every message the queues serve, by id, and a check that none starts at or past `end`. */
function servedIds(store: MessageStore, end: number): string[] {
  const ids: string[] = [];
  for (const [key, q] of Object.entries(queueSnapshot(store))) {
    const [topic, queueId] = key.split('/');
    for (const e of q.entries) expect(e.physicalOffset).toBeLessThan(end);
    ids.push(...allMessages(store, topic, Number(queueId)).map((m) => m.messageId));
  }
  return ids.sort();
}

function idsOf(from: number, count: number, origin = 'a'): string[] {
  return Array.from({ length: count }, (_, k) => msg(from + k, origin).messageId);
}

/** Queue ranges a store holding exactly messages [0, count) of msg() has. */
function expectedRanges(count: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const key = `${msg(i).topic}/${msg(i).queueId}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

function maxima(store: MessageStore): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, q] of Object.entries(queueSnapshot(store))) if (q.max > 0) out[key] = q.max;
  return out;
}

describe('MessageStore.truncateTail', () => {
  it('cuts mid-segment: log, queues and readers end at `to`; appends go on from there', async () => {
    const store = await open('s');
    const results = await appendAll(store, 0, 12);
    const to = results[8].physicalOffset;
    const from = store.maxPhysicalOffset;
    const heard: TruncateResult[] = [];
    store.onTruncate((r) => heard.push(r));

    const result = await store.truncateTail(to);

    expect(result).toEqual({ from, to, bytesCut: from - to, segmentsDeleted: 0, consumeQueueEntriesCut: 4 });
    expect(heard).toEqual([result]);
    expect(store.maxPhysicalOffset).toBe(to);
    expect(() => store.read(to)).toThrow(expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE' }));
    expect(() => store.readLogBytes(to + 1, 100)).toThrow(expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE' }));
    expect(store.readLogBytes(to, 100).bytes.length).toBe(0);
    expect(store.scanFrom(to, 10).records).toEqual([]);
    expect(maxima(store)).toEqual(expectedRanges(8));
    expect(servedIds(store, to)).toEqual(idsOf(0, 8).sort());

    const next = await store.append(msg(100));
    expect(next.physicalOffset).toBe(to);
    expect(next.queueOffset).toBe(expectedRanges(8)[`${msg(100).topic}/${msg(100).queueId}`] ?? 0);
    expect(store.read(to).messageId).toBe(msg(100).messageId);
    await store.close();

    const again = await open('s');
    expect(again.maxPhysicalOffset).toBe(next.physicalOffset + next.totalBytes);
    expect(servedIds(again, again.maxPhysicalOffset)).toEqual([...idsOf(0, 8), msg(100).messageId].sort());
    await again.close();
  });

  it('cuts across segments, deleting the later files, and survives a kill right after', async () => {
    const store = await open('s');
    const results = await appendAll(store, 0, 60);
    const before = segmentFiles(join(root(), 's'));
    expect(before.length).toBeGreaterThanOrEqual(3);
    const to = results.find((r) => r.physicalOffset > before[1].base + 1000)!.physicalOffset;
    const kept = results.findIndex((r) => r.physicalOffset === to);

    const result = await store.truncateTail(to);

    expect(result.segmentsDeleted).toBe(before.length - 2);
    expect(result.bytesCut).toBe(before.slice(1).reduce((n, f) => n + f.bytes, 0) - (to - before[1].base));
    expect(result.consumeQueueEntriesCut).toBe(60 - kept);
    const after = segmentFiles(join(root(), 's'));
    expect(after.map((f) => f.base)).toEqual([before[0].base, before[1].base]);
    expect(after[1].bytes).toBe(to - before[1].base);
    expect(maxima(store)).toEqual(expectedRanges(kept));

    // New appends re-cross the segments, with the queues numbered on from their cut max.
    const more = await appendAll(store, kept, 20, 'b');
    expect(more[0].physicalOffset).toBe(to);
    const ranges = expectedRanges(kept);
    for (let k = 0; k < more.length; k++) {
      const key = `${msg(kept + k).topic}/${msg(kept + k).queueId}`;
      expect(more[k].queueOffset).toBe(ranges[key] ?? 0);
      ranges[key] = (ranges[key] ?? 0) + 1;
    }
    expect(maxima(store)).toEqual(ranges);
    const ids = [...idsOf(0, kept), ...idsOf(kept, 20, 'b')].sort();
    expect(servedIds(store, store.maxPhysicalOffset)).toEqual(ids);

    // kill -9 now: the files as they are, abort marker included.
    cpSync(join(root(), 's'), join(root(), 'killed'), { recursive: true });
    const end = store.maxPhysicalOffset;
    await store.close();
    const killed = await open('killed');
    expect(killed.recovery.cleanShutdown).toBe(false);
    expect(killed.maxPhysicalOffset).toBe(end);
    expect(servedIds(killed, end)).toEqual(ids);
    expect(maxima(killed)).toEqual(ranges);
    await killed.close();
  });

  it('cuts at a segment base: the filler before it stays, the segment file is emptied', async () => {
    const store = await open('s');
    const results = await appendAll(store, 0, 40);
    const base1 = segmentFiles(join(root(), 's'))[1].base;
    const kept = results.findIndex((r) => r.physicalOffset === base1);
    expect(kept).toBeGreaterThan(0);
    await store.truncateTail(base1);
    expect(segmentFiles(join(root(), 's')).map((f) => f.bytes)).toEqual([expect.any(Number), 0]);
    cpSync(join(root(), 's'), join(root(), 'killed'), { recursive: true });
    expect((await store.append(msg(kept, 'b'))).physicalOffset).toBe(base1);
    await store.close();
    for (const name of ['s', 'killed']) {
      const again = await open(name);
      const ids = name === 's' ? [...idsOf(0, kept), msg(kept, 'b').messageId] : idsOf(0, kept);
      expect(servedIds(again, again.maxPhysicalOffset)).toEqual(ids.sort());
      expect(again.maxPhysicalOffset).toBe(name === 's' ? results[kept].physicalOffset + results[kept].totalBytes : base1);
      await again.close();
    }
  });

  it('a truncated old master replicates the new master tail and ends byte-identical', async () => {
    const a = await open('a');
    const b = await open('b');
    await appendAll(a, 0, 25);
    await replicate(a, b); // b: a's slave
    const fork = b.maxPhysicalOffset;
    await appendAll(a, 25, 15, 'lost'); // a's tail b never got
    await appendAll(b, 25, 30, 'new'); // b promoted: its own tail
    expect(a.readLogBytes(0, 1 << 20).bytes.equals(b.readLogBytes(0, 1 << 20).bytes)).toBe(true); // shared prefix

    expect((await a.truncateTail(fork)).to).toBe(fork);
    await replicate(b, a); // a: b's slave now

    expect(a.maxPhysicalOffset).toBe(b.maxPhysicalOffset);
    expect(wholeLog(a).equals(wholeLog(b))).toBe(true);
    expect(queueSnapshot(a)).toEqual(queueSnapshot(b));
    const ids = [...idsOf(0, 25), ...idsOf(25, 30, 'new')].sort();
    expect(servedIds(a, a.maxPhysicalOffset)).toEqual(ids);
    await Promise.all([a.close(), b.close()]);

    const reopened = await open('a');
    expect(servedIds(reopened, reopened.maxPhysicalOffset)).toEqual(ids);
    await reopened.close();
  });

  it('refuses a bad `to` and changes nothing; `to` = the end cuts nothing', async () => {
    const store = await open('s');
    const results = await appendAll(store, 0, 10);
    const end = store.maxPhysicalOffset;
    const code = (to: number): Promise<unknown> =>
      store.truncateTail(to).then(
        () => 'resolved',
        (err: { code: string }) => err.code,
      );
    expect(await code(end + 1)).toBe('OFFSET_OUT_OF_RANGE');
    expect(await code(-1)).toBe('OFFSET_OUT_OF_RANGE');
    expect(await code(results[3].physicalOffset + 1)).toBe('INVALID_OFFSET');
    expect(await code(results[3].physicalOffset + 12)).toBe('INVALID_OFFSET');
    expect(await store.truncateTail(end)).toEqual({ from: end, to: end, bytesCut: 0, segmentsDeleted: 0, consumeQueueEntriesCut: 0 });
    expect(store.maxPhysicalOffset).toBe(end);
    expect(servedIds(store, end)).toEqual(idsOf(0, 10).sort());
    expect((await store.append(msg(10))).physicalOffset).toBe(end);
    await store.close();
  });

  it('waits for appends in flight and refuses those arriving meanwhile', async () => {
    const store = await open('s');
    const results = await appendAll(store, 0, 10);
    const to = results[5].physicalOffset;
    const inFlight = Array.from({ length: 8 }, (_, k) => store.append(msg(10 + k)));
    const truncation = store.truncateTail(to);
    const refused = [
      store.append(msg(50)),
      store.appendBatch([msg(51)]),
      store.appendReplicated(store.maxPhysicalOffset, Buffer.alloc(0)),
      store.truncateTail(to),
    ];
    for (const p of refused) await expect(p).rejects.toMatchObject({ code: 'STORE_TRUNCATING', retriable: true });
    const written = await Promise.all(inFlight); // acknowledged: written and synced before the cut
    expect(written.every((r) => r.physicalOffset > to)).toBe(true);
    const result = await truncation;
    expect(result.from).toBe(written[written.length - 1].physicalOffset + written[written.length - 1].totalBytes);
    expect(result.consumeQueueEntriesCut).toBe(5 + 8);
    expect((await store.append(msg(60))).physicalOffset).toBe(to);
    await store.checkpoint();
    await store.close();
  });

  describe('a kill part-way recovers to the old log or to `to`, never serving a cut record', () => {
    /** A store of 60 messages, a copy of its folder before and after truncating to a record in segment 1. */
    async function prepare(): Promise<{ to: number; kept: number; pre: string; post: string }> {
      const store = await open('s');
      const results = await appendAll(store, 0, 60);
      await store.checkpoint(); // the usual case: a checkpoint at the old end
      const pre = join(root(), 'pre');
      cpSync(join(root(), 's'), pre, { recursive: true });
      const base1 = segmentFiles(pre)[1].base;
      const kept = results.findIndex((r) => r.physicalOffset > base1 + 1000);
      const to = results[kept].physicalOffset;
      await store.truncateTail(to);
      const post = join(root(), 'post');
      cpSync(join(root(), 's'), post, { recursive: true });
      await store.close();
      return { to, kept, pre, post };
    }

    /** `post` with `names` (store-relative) taken from `pre`, reopened as after a kill. */
    async function reopenMix(p: { pre: string; post: string }, names: string[]): Promise<MessageStore> {
      for (const name of names) {
        rmSync(join(p.post, name), { recursive: true, force: true });
        cpSync(join(p.pre, name), join(p.post, name), { recursive: true });
      }
      return MessageStore.open({ dir: p.post, ...STORE });
    }

    it('killed after the log cut, before the consume queues were cut', async () => {
      const p = await prepare();
      const store = await reopenMix(p, ['consumequeue']);
      expect(store.maxPhysicalOffset).toBe(p.to);
      expect(store.recovery.consumeQueueEntriesCut).toBe(60 - p.kept);
      expect(servedIds(store, p.to)).toEqual(idsOf(0, p.kept).sort());
      expect((await store.append(msg(99))).physicalOffset).toBe(p.to);
      await store.close();
    });

    it('killed with the segment holding `to` cut, later segments not yet deleted', async () => {
      const p = await prepare();
      const later = segmentFiles(p.pre).slice(2).map((f) => relative(p.pre, f.path));
      const store = await reopenMix(p, [...later, 'consumequeue']);
      expect(store.maxPhysicalOffset).toBe(p.to);
      expect(store.recovery.segmentsDeleted).toBe(later.length);
      expect(servedIds(store, p.to)).toEqual(idsOf(0, p.kept).sort());
      await store.close();
    });

    it('killed after the checkpoint, before the log cut: the old log, whole', async () => {
      const p = await prepare();
      const segments = segmentFiles(p.pre).map((f) => relative(p.pre, f.path));
      const store = await reopenMix(p, [...segments, 'consumequeue']);
      expect(store.recovery.scannedFrom).toBe(p.to);
      expect(store.maxPhysicalOffset).toBe(segmentFiles(p.pre).reduce((n, f) => Math.max(n, f.base + f.bytes), 0));
      expect(servedIds(store, store.maxPhysicalOffset)).toEqual(idsOf(0, 60).sort());
      await store.close();
    });
  });
});
