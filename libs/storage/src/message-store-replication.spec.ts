import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { useTempDir } from '../test/temp-dir';
import { queueSnapshot } from '../test/crash/crash-store';
import type { MessageInput } from './codec/record-codec';
import { PREFIX_BYTES } from './codec/record-layout';
import { MessageStore, type AppendResult } from './message-store';
import type { StoreConfig } from './store-config';

const root = useTempDir('apogee-replication-');
const SEGMENT_BYTES = 288 * 1024; // the smallest the config allows above maxBodyBytes
const HOUR_MS = 3_600_000;
const STORE: Omit<Partial<StoreConfig>, 'dir'> = {
  segmentBytes: SEGMENT_BYTES,
  maxBodyBytes: 31 * 1024,
  cqEntriesPerSegment: 64,
  checkpointIntervalMs: HOUR_MS,
  retentionCheckIntervalMs: HOUR_MS,
};
/** Bodies of mixed sizes: mostly small, some of tens of KiB (larger than a small read). */
const BODY_BYTES = [10, 300, 1200, 40, 9000, 77, 30_000, 500, 3, 4096];

/** Message i; every field but the body has the same length for every i of one topic. */
function msg(i: number, bodyBytes = BODY_BYTES[i % BODY_BYTES.length], topic = i % 5 === 0 ? 'audit' : 'orders'): MessageInput {
  const n = String(i).padStart(6, '0');
  return {
    topic,
    queueId: i % 3,
    body: Buffer.alloc(bodyBytes, i & 0xff),
    messageId: `m${n}`,
    bornTimestampMs: 1_700_000_000_000 + i,
    keys: [`k${n}`],
    tag: i % 2 === 0 ? 'A' : 'B',
    properties: { i: n },
  };
}

async function open(name: string, over: Omit<Partial<StoreConfig>, 'dir'> = {}): Promise<MessageStore> {
  return MessageStore.open({ dir: join(root(), name), ...STORE, ...over });
}

async function appendAll(store: MessageStore, from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, from + count - i) }, (_, k) => store.append(msg(i + k))));
  }
}

/** Copies the master's log to the slave from the slave's end, chunk sizes from `maxBytes`; returns the chunk count. */
async function replicate(master: MessageStore, slave: MessageStore, maxBytes: (call: number) => number): Promise<number> {
  let from = slave.maxPhysicalOffset;
  let calls = 0;
  for (;;) {
    const { bytes, next } = master.readLogBytes(from, maxBytes(calls));
    if (bytes.length === 0) return calls;
    calls++;
    expect(await slave.appendReplicated(from, bytes)).toBe(next);
    from = next;
  }
}

function segmentsOf(name: string): Map<string, Buffer> {
  const dir = join(root(), name, 'commitlog');
  return new Map(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f))]));
}

function expectSameLog(master: string, slave: string): void {
  const m = segmentsOf(master);
  const s = segmentsOf(slave);
  expect([...s.keys()]).toEqual([...m.keys()]);
  for (const [name, bytes] of m) expect(s.get(name)?.equals(bytes)).toBe(true);
}

const CHUNKS = [1, 100, 777, 4096, 20_000, 65_536, 1 << 20];

describe('MessageStore replication', () => {
  it.each(['SYNC', 'ASYNC'] as const)(
    'a %s slave holds the same bytes and queues after several rolls, reopens and continues, and numbers on when promoted',
    async (flushMode) => {
      const master = await open('master');
      let slave = await open('slave', { flushMode });
      await appendAll(master, 0, 400);
      expect(segmentsOf('master').size).toBeGreaterThan(4);
      const calls = await replicate(master, slave, (c) => CHUNKS[c % CHUNKS.length]);
      expect(calls).toBeGreaterThan(20);
      expect(slave.maxPhysicalOffset).toBe(master.maxPhysicalOffset);
      expect(queueSnapshot(slave)).toEqual(queueSnapshot(master));
      expect(slave.readQueue('orders', 1, 3, 1)[0].body).toEqual(master.readQueue('orders', 1, 3, 1)[0].body);

      await slave.close();
      slave = await open('slave', { flushMode });
      expect(slave.recovery.cleanShutdown).toBe(true);
      expect(slave.maxPhysicalOffset).toBe(master.maxPhysicalOffset);
      await appendAll(master, 400, 200);
      await replicate(master, slave, () => 10_000);
      expect(queueSnapshot(slave)).toEqual(queueSnapshot(master));

      // Promoted: local appends go on from the replicated QueueOffsets and PhysicalOffsets.
      const before = master.queueRange('orders', 2).max;
      const [a, b] = await Promise.all([master.append(msg(1001)), slave.append(msg(1001))]);
      expect(b).toMatchObject({ queueOffset: before, physicalOffset: a.physicalOffset, totalBytes: a.totalBytes });
      await Promise.all([master.close(), slave.close()]);
      // Stores of different clocks differ in the store timestamp of that last record only.
      const m = segmentsOf('master');
      const s = segmentsOf('slave');
      expect([...s.keys()]).toEqual([...m.keys()]);
      const last = [...m.keys()].pop() as string;
      for (const [name, bytes] of m) {
        if (name !== last) expect(s.get(name)?.equals(bytes)).toBe(true);
      }
    },
    30_000,
  );

  it('reads one whole record per call at maxBytes 1, a filler alone, and a record larger than maxBytes whole', async () => {
    const master = await open('master');
    const results = [];
    for (let i = 0; i < 80; i++) results.push(await master.append(msg(i, 9000)));
    const slave = await open('slave');
    let from = 0;
    let fillers = 0;
    for (;;) {
      const { bytes, next } = master.readLogBytes(from, 1);
      if (bytes.length === 0) break;
      const record = results.find((r) => r.physicalOffset === from);
      if (record) {
        expect(bytes.length).toBe(record.totalBytes);
        expect(next).toBe(from + record.totalBytes);
      } else {
        fillers++;
        expect(bytes.length).toBe(PREFIX_BYTES);
        expect(next % SEGMENT_BYTES).toBe(0);
      }
      expect(await slave.appendReplicated(from, bytes)).toBe(next);
      expect(slave.maxPhysicalOffset).toBe(next); // a log ending in a filler ends at the next segment's base
      from = next;
    }
    expect(fillers).toBeGreaterThan(0);
    const big = master.readLogBytes(0, 100);
    expect(big.bytes.length).toBe(results[0].totalBytes);
    await Promise.all([master.close(), slave.close()]);
    expectSameLog('master', 'slave');
  });

  it('follows a roll without filler (a tail shorter than its prefix) and a record ending exactly at the segment end', async () => {
    const master = await open('master');
    let i = 0;
    const first = await master.append(msg(i++, 1000, 'orders'));
    const overhead = first.totalBytes - 1000; // the same for every message of the topic
    /** Appends up to `end` (its last record ends there exactly); returns that record. */
    const appendUpTo = async (end: number): Promise<AppendResult> => {
      while (end - master.maxPhysicalOffset > 2 * (30_000 + overhead)) await master.append(msg(i++, 30_000, 'orders'));
      const rest = end - master.maxPhysicalOffset;
      await master.append(msg(i++, Math.floor(rest / 2) - overhead, 'orders'));
      return master.append(msg(i++, end - master.maxPhysicalOffset - overhead, 'orders'));
    };
    // Leave 4 bytes: too few for a filler.
    const short = await appendUpTo(SEGMENT_BYTES - 4);
    expect(short.physicalOffset + short.totalBytes).toBe(SEGMENT_BYTES - 4);
    const slave = await open('slave');
    await replicate(master, slave, () => 1 << 20);
    // The 4-byte tail is never written: both logs end at the next segment's base, as recovery would say.
    expect(master.maxPhysicalOffset).toBe(SEGMENT_BYTES);
    expect(slave.maxPhysicalOffset).toBe(SEGMENT_BYTES);
    expect(master.readLogBytes(SEGMENT_BYTES, 100)).toEqual({ bytes: Buffer.alloc(0), next: SEGMENT_BYTES });
    // An offset inside the tail is the same position.
    expect(master.readLogBytes(SEGMENT_BYTES - 4, 100)).toEqual({ bytes: Buffer.alloc(0), next: SEGMENT_BYTES - 4 });
    const rolled = await master.append(msg(i++, 1000, 'orders'));
    expect(rolled.physicalOffset).toBe(SEGMENT_BYTES);
    // Exactly to the end of the second segment.
    const exact = await appendUpTo(2 * SEGMENT_BYTES);
    expect(exact.physicalOffset + exact.totalBytes).toBe(2 * SEGMENT_BYTES);
    await master.append(msg(i++, 100, 'orders'));
    const chunk = master.readLogBytes(SEGMENT_BYTES, 1 << 20);
    expect(chunk.next).toBe(2 * SEGMENT_BYTES); // the chunk ends at the segment end
    expect(await slave.appendReplicated(SEGMENT_BYTES - 4, chunk.bytes)).toBe(2 * SEGMENT_BYTES); // the tail's offset is accepted
    await slave.close();
    const reopened = await open('slave');
    expect(reopened.maxPhysicalOffset).toBe(2 * SEGMENT_BYTES);
    await replicate(master, reopened, () => 1);
    expect(queueSnapshot(reopened)).toEqual(queueSnapshot(master));
    await Promise.all([master.close(), reopened.close()]);
    expectSameLog('master', 'slave');
  });

  it('refuses bytes that do not start at its end, corrupt bytes and torn chunks, appending nothing', async () => {
    const master = await open('master');
    await appendAll(master, 0, 40);
    const slave = await open('slave');
    const head = master.readLogBytes(0, 3000);
    await slave.appendReplicated(0, head.bytes);
    const end = slave.maxPhysicalOffset;
    const next = master.readLogBytes(end, 5000);
    expect(next.bytes.length).toBeGreaterThan(0);

    await expect(slave.appendReplicated(0, head.bytes)).rejects.toMatchObject({
      code: 'REPLICA_OFFSET_MISMATCH',
      message: expect.stringContaining(`PhysicalOffset 0 but this log ends at ${end}`),
    });
    await expect(slave.appendReplicated(next.next, next.bytes)).rejects.toMatchObject({ code: 'REPLICA_OFFSET_MISMATCH' });
    // The master's bytes of `end` claimed to start at 0 by another empty slave: the stored PhysicalOffset says no.
    const other = await open('other');
    await expect(other.appendReplicated(0, next.bytes)).rejects.toMatchObject({ code: 'CORRUPT_RECORD' });
    expect(other.maxPhysicalOffset).toBe(0);

    const flipped = Buffer.from(next.bytes);
    flipped[flipped.length - 20] ^= 0xff; // inside the last record: the records before it are fine
    await expect(slave.appendReplicated(end, flipped)).rejects.toMatchObject({ code: 'CORRUPT_RECORD' });
    await expect(slave.appendReplicated(end, next.bytes.subarray(0, next.bytes.length - 1))).rejects.toMatchObject({
      code: 'CORRUPT_RECORD',
    });
    expect(slave.maxPhysicalOffset).toBe(end);

    // A local append on a slave shifts its end: the next replicated chunk is refused, not mixed in.
    await slave.append(msg(999));
    await expect(slave.appendReplicated(end, next.bytes)).rejects.toMatchObject({ code: 'REPLICA_OFFSET_MISMATCH' });
    await Promise.all([master.close(), slave.close(), other.close()]);
    const s = segmentsOf('slave').get('00000000000000000000') as Buffer;
    expect(s.subarray(0, end).equals(segmentsOf('master').get('00000000000000000000')?.subarray(0, end) as Buffer)).toBe(true);
  });

  it('readLogBytes checks its offset: a record start, not past the end, not below the oldest segment', async () => {
    const master = await open('master', { retentionMs: 1 });
    await appendAll(master, 0, 200);
    const second = master.readLogBytes(0, 1).next;
    expect(() => master.readLogBytes(second + 1, 100)).toThrow(expect.objectContaining({ code: 'INVALID_OFFSET' }));
    expect(() => master.readLogBytes(master.maxPhysicalOffset + 1, 100)).toThrow(
      expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE' }),
    );
    expect(master.readLogBytes(master.maxPhysicalOffset, 100)).toEqual({ bytes: Buffer.alloc(0), next: master.maxPhysicalOffset });
    expect(master.runRetention(Date.now() + HOUR_MS).segmentsDeleted).toBeGreaterThan(0);
    expect(master.minPhysicalOffset).toBeGreaterThan(0);
    expect(() => master.readLogBytes(0, 100)).toThrow(
      expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE', message: expect.stringContaining('oldest retained') }),
    );
    expect(master.segmentBytes).toBe(SEGMENT_BYTES);
    await master.close();
  });
});
