import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { useTempDir } from '../test/temp-dir';
import { MessageStore, type LogScanPage } from './message-store';
import type { AppendResult } from './message-store';
import type { MessageInput } from './codec/record-codec';

// MessageStore.scanFrom: paging the written commit log for followers (BrokerDispatch Follow).
const dir = useTempDir();
/** Small segments so a few hundred messages roll several times (with fillers). */
const small = { segmentBytes: 288 * 1024, maxBodyBytes: 16 * 1024, cqEntriesPerSegment: 100 };

function msg(i: number, over: Partial<MessageInput> = {}): MessageInput {
  return {
    topic: i % 5 === 0 ? 'audit' : 'orders',
    queueId: i % 3,
    body: Buffer.from(`body-${i}-`.repeat(1 + ((i * 7) % 1500))),
    messageId: `id-${i}`,
    bornTimestampMs: 1_700_000_000_000 + i,
    keys: i % 4 === 0 ? [] : [`k${i}`, `order-${i}`],
    tag: i % 2 === 0 ? 'A' : '',
    ...over,
  };
}

async function appendAll(store: MessageStore, count: number, over: Partial<MessageInput> = {}): Promise<AppendResult[]> {
  const out: AppendResult[] = [];
  for (let i = 0; i < count; i++) out.push(await store.append(msg(i, over)));
  return out;
}

/** Pages from `from` to the written end; every page's `next` is checked against the records. */
function scanAll(store: MessageStore, from: number, maxRecords: number, maxBytes?: number): LogScanPage['records'] {
  const out: LogScanPage['records'] = [];
  let at = from;
  for (;;) {
    const page = store.scanFrom(at, maxRecords, maxBytes);
    expect(page.records.length).toBeLessThanOrEqual(maxRecords);
    if (page.records.length === 0) {
      expect(page.next).toBe(store.maxPhysicalOffset);
      return out;
    }
    const last = page.records[page.records.length - 1];
    expect(page.next).toBeGreaterThanOrEqual(last.physicalOffset + last.totalBytes);
    out.push(...page.records);
    at = page.next;
  }
}

describe('MessageStore.scanFrom', () => {
  it('pages every record once, in log order, across segment fillers', async () => {
    const store = await MessageStore.open({ dir: dir(), ...small });
    const appended = await appendAll(store, 300);
    expect(readdirSync(join(dir(), 'commitlog')).length).toBeGreaterThan(3);
    const records = scanAll(store, 0, 7);
    expect(records.map((r) => r.physicalOffset)).toEqual(appended.map((a) => a.physicalOffset));
    expect(records[1]).toEqual({
      topic: 'orders',
      queueId: 1,
      queueOffset: appended[1].queueOffset,
      physicalOffset: appended[1].physicalOffset,
      totalBytes: appended[1].totalBytes,
      tag: '',
      storeTimestampMs: appended[1].storeTimestampMs,
      messageId: 'id-1',
      keys: ['k1', 'order-1'],
    });
    expect(records[4].keys).toEqual([]);
    await store.close();
  });

  it('resumes from any page boundary with exactly the rest', async () => {
    const store = await MessageStore.open({ dir: dir(), ...small });
    const appended = await appendAll(store, 120);
    const first = store.scanFrom(0, 50);
    const rest = scanAll(store, first.next, 16);
    expect([...first.records, ...rest].map((r) => r.messageId)).toEqual(appended.map((_, i) => `id-${i}`));
    expect(rest[0].physicalOffset).toBe(appended[50].physicalOffset);
    await store.close();
  });

  it('bounds a page by bytes, but always returns a record larger than the bound', async () => {
    const store = await MessageStore.open({ dir: dir(), ...small });
    await appendAll(store, 40);
    expect(store.scanFrom(0, 1000, 1).records).toHaveLength(1);
    expect(scanAll(store, 0, 1000, 10_000).map((r) => r.messageId)).toEqual(Array.from({ length: 40 }, (_, i) => `id-${i}`));
    await store.close();
  });

  it('reads records larger than its read buffer', async () => {
    const big = { segmentBytes: 2 << 20, maxBodyBytes: 1 << 20 };
    const store = await MessageStore.open({ dir: dir(), ...big });
    const bodies = [10, 700_000, 20, 1_000_000, 30].map((n, i) => Buffer.alloc(n, i));
    const appended: AppendResult[] = [];
    for (const [i, body] of bodies.entries()) appended.push(await store.append(msg(i, { body })));
    expect(scanAll(store, 0, 2).map((r) => r.totalBytes)).toEqual(appended.map((a) => a.totalBytes));
    await store.close();
  });

  it('jumps over a missing segment', async () => {
    let store = await MessageStore.open({ dir: dir(), ...small });
    const appended = await appendAll(store, 300);
    await store.close();
    const files = readdirSync(join(dir(), 'commitlog')).sort();
    rmSync(join(dir(), 'commitlog', files[1]));
    const holeStart = Number(files[1]);
    const holeEnd = holeStart + small.segmentBytes;
    store = await MessageStore.open({ dir: dir(), ...small });
    const expected = appended.filter((a) => a.physicalOffset < holeStart || a.physicalOffset >= holeEnd);
    expect(scanAll(store, 0, 9).map((r) => r.physicalOffset)).toEqual(expected.map((a) => a.physicalOffset));
    expect(store.scanFrom(holeStart, 1).records[0].physicalOffset).toBe(holeEnd);
    await store.close();
  });

  it('refuses offsets outside the log or inside a record', async () => {
    const store = await MessageStore.open({ dir: dir(), ...small });
    const appended = await appendAll(store, 10);
    expect(store.scanFrom(store.maxPhysicalOffset, 10)).toEqual({ records: [], next: store.maxPhysicalOffset });
    expect(() => store.scanFrom(store.maxPhysicalOffset + 1, 10)).toThrow(expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE' }));
    expect(() => store.scanFrom(-1, 10)).toThrow(expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE' }));
    expect(() => store.scanFrom(appended[3].physicalOffset + 5, 10)).toThrow(expect.objectContaining({ code: 'INVALID_OFFSET' }));
    await store.close();
  });

  it('starts at the oldest retained offset once retention deleted the head', async () => {
    let now = 1_000_000;
    const store = await MessageStore.open({ dir: dir(), ...small, retentionMs: 1 }, { now: () => now, diskUsage: () => 0 });
    await appendAll(store, 300);
    now += 10 * 24 * 3600 * 1000;
    store.runRetention(now + Date.now());
    const min = store.minPhysicalOffset;
    expect(min).toBeGreaterThan(0);
    expect(() => store.scanFrom(0, 10)).toThrow(expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE' }));
    expect(store.scanFrom(min, 1).records[0].physicalOffset).toBe(min);
    await store.close();
  });
});
