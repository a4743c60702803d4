import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { useTempDir } from '../test/temp-dir';
import { StorageError } from './errors';
import { MessageStore } from './message-store';
import type { MessageInput } from './codec/record-codec';

const dir = useTempDir();
const small = { segmentBytes: 1 << 20, maxBodyBytes: 64 * 1024, cqEntriesPerSegment: 100 };

function msg(i: number, over: Partial<MessageInput> = {}): MessageInput {
  return {
    topic: 'orders',
    queueId: i % 2,
    body: Buffer.from(`body-${i}-`.repeat(1 + (i % 50))),
    messageId: `id-${i}`,
    bornTimestampMs: 1_700_000_000_000 + i,
    keys: [`k${i}`],
    tag: i % 3 === 0 ? 'A' : 'B',
    properties: { n: String(i) },
    ...over,
  };
}

describe('MessageStore', () => {
  it.each(['ASYNC', 'SYNC'] as const)('appends and reads back by queue and physical offset (%s)', async (flushMode) => {
    const store = await MessageStore.open({ dir: dir(), ...small, flushMode });
    const results = await Promise.all(Array.from({ length: 500 }, (_, i) => store.append(msg(i))));
    expect(results.filter((r, i) => i % 2 === 0).map((r) => r.queueOffset)).toEqual([...Array(250).keys()]);
    const q0 = store.readQueue('orders', 0, 0, 1000);
    expect(q0).toHaveLength(100); // one consume-queue segment per read
    expect(q0[3].messageId).toBe('id-6');
    expect(q0[3].properties).toEqual({ n: '6' });
    expect(q0[3].keys).toEqual(['k6']);
    const m = store.read(results[7].physicalOffset);
    expect(m.body.toString()).toBe(msg(7).body.toString());
    expect(store.queueRange('orders', 1)).toEqual({ min: 0, max: 250 });
    await store.close();
  });

  it.each(['ASYNC', 'SYNC'] as const)('appends a batch with one acknowledgement; a bad message fails alone (%s)', async (flushMode) => {
    const store = await MessageStore.open({ dir: dir(), ...small, flushMode });
    const batch = [msg(0), msg(1, { topic: 'bad topic' }), msg(2), msg(4, { body: Buffer.alloc(small.maxBodyBytes + 1) })];
    const results = await store.appendBatch(batch);
    expect(results.map((r) => (r instanceof StorageError ? r.code : r.queueOffset))).toEqual([0, 'INVALID_NAME', 1, 'MESSAGE_TOO_LARGE']);
    if (flushMode === 'SYNC') expect(store.syncedPhysicalOffset).toBe(store.maxPhysicalOffset);
    expect(store.readQueue('orders', 0, 0, 10).map((m) => m.messageId)).toEqual(['id-0', 'id-2']);
    await store.close();
    await expect(store.appendBatch([msg(6)])).rejects.toMatchObject({ code: 'STORE_CLOSED' });
  });

  it('rolls segments and survives a clean reopen', async () => {
    const body = Buffer.alloc(40_000, 7);
    let store = await MessageStore.open({ dir: dir(), ...small });
    for (let i = 0; i < 100; i++) await store.append(msg(i, { body }));
    await store.close();
    expect(readdirSync(join(dir(), 'commitlog')).length).toBeGreaterThan(3);
    store = await MessageStore.open({ dir: dir(), ...small });
    expect(store.recovery.cleanShutdown).toBe(true);
    expect(store.recovery.recordsScanned).toBe(0);
    const r = await store.append(msg(100, { body }));
    expect(r.queueOffset).toBe(50);
    const all = [...store.readQueue('orders', 0, 0, 100), ...store.readQueue('orders', 0, 100, 100)];
    expect(all.map((m) => m.messageId)).toEqual(Array.from({ length: 51 }, (_, i) => `id-${i * 2}`));
    await store.close();
  });

  it('reads many records in the order asked, back-to-back runs together and across segments', async () => {
    const store = await MessageStore.open({ dir: dir(), ...small });
    const body = Buffer.alloc(30_000, 3);
    const results = (await store.appendBatch(Array.from({ length: 80 }, (_, i) => msg(i, { queueId: 0, body: i % 2 === 0 ? body : msg(i).body })))) as Array<{ physicalOffset: number; queueOffset: number }>;
    const spans = store.entries('orders', 0, 0, 80);
    expect(new Set(spans.map((e) => Math.floor(e.physicalOffset / small.segmentBytes))).size).toBeGreaterThan(1); // the batch rolled a segment
    expect(store.readMany(spans).map((m) => m.messageId)).toEqual(results.map((_, i) => `id-${i}`));
    const picked = [spans[7], spans[3], spans[4], spans[5], spans[79]];
    expect(store.readMany(picked).map((m) => m.queueOffset)).toEqual([7, 3, 4, 5, 79]);
    expect(store.readMany(picked)[1].body.toString()).toBe(msg(3).body.toString());
    expect(store.readMany([])).toEqual([]);
    expect(() => store.readMany([spans[1], { physicalOffset: store.maxPhysicalOffset, totalBytes: 100 }])).toThrow(expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE' }));
    expect(() => store.readMany([spans[1], { physicalOffset: spans[2].physicalOffset, totalBytes: spans[2].totalBytes + 1 }])).toThrow(
      expect.objectContaining({ code: 'CORRUPT_RECORD' }),
    );
    await store.close();
  });

  it('rebuilds deleted consume queues from the commit log', async () => {
    let store = await MessageStore.open({ dir: dir(), ...small });
    for (let i = 0; i < 300; i++) await store.append(msg(i));
    await store.close();
    rmSync(join(dir(), 'consumequeue'), { recursive: true });
    store = await MessageStore.open({ dir: dir(), ...small });
    expect(store.recovery.rebuiltConsumeQueues).toBe(true);
    expect(store.queueRange('orders', 0)).toEqual({ min: 0, max: 150 });
    expect(store.readQueue('orders', 1, 140, 10).map((m) => m.messageId)).toEqual(
      Array.from({ length: 10 }, (_, i) => `id-${281 + 2 * i}`),
    );
    await store.close();
  });

  it('finds the first offset at or after a store time', async () => {
    let now = 1000;
    const store = await MessageStore.open({ dir: dir(), ...small }, { now: () => now });
    for (let i = 0; i < 50; i++) {
      now = 1000 + i * 10;
      await store.append(msg(i * 2));
    }
    expect(store.offsetAtTime('orders', 0, 0)).toBe(0);
    expect(store.offsetAtTime('orders', 0, 1205)).toBe(21);
    expect(store.offsetAtTime('orders', 0, 1210)).toBe(21);
    expect(store.offsetAtTime('orders', 0, 99999)).toBe(50);
    await store.close();
  });

  it('rejects bad input with clear errors', async () => {
    const store = await MessageStore.open({ dir: dir(), ...small });
    await expect(async () => store.append(msg(1, { topic: 'bad topic' }))).rejects.toThrow(/topic "bad topic" is invalid/);
    await expect(async () => store.append(msg(1, { body: Buffer.alloc(70_000) }))).rejects.toMatchObject({
      code: 'MESSAGE_TOO_LARGE',
    });
    await expect(async () => store.append(msg(1, { properties: { 'a\u0001': 'x' } }))).rejects.toMatchObject({
      code: 'INVALID_MESSAGE',
    });
    await store.close();
  });

  it('leaves the abort marker only while open', async () => {
    const store = await MessageStore.open({ dir: dir(), ...small });
    expect(existsSync(join(dir(), 'abort'))).toBe(true);
    await store.close();
    expect(existsSync(join(dir(), 'abort'))).toBe(false);
  });
});
