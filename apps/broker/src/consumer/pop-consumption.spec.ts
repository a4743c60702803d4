import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MessageStore, MetadataStore } from '@apogee/storage';
import { PopConsumption, type PopRequest, type PoppedMessage } from './pop-consumption';
import { createTopicConfig } from '@apogee/routing';
import { LEGACY_INFLIGHT_TABLE, POP_STATE_TABLE } from './pop-state';
import { DeadLetterQueue } from './dead-letter-queue';
import { ALL_TAGS, parseTagFilter } from './tag-filter';

const SMALL_STORE = { segmentBytes: 1 << 20, maxBodyBytes: 64 * 1024, cqEntriesPerSegment: 100 };
const INVISIBLE_MS = 30_000;
const clock = { nowMs: 1_700_000_000_000, now: () => clock.nowMs };

let dir = '';
let store: MessageStore;
let meta: MetadataStore;
let pop: PopConsumption;
let open = false;

async function openAll(options: { maxInflightPerQueue?: number } = {}): Promise<void> {
  store = await MessageStore.open({ dir: path.join(dir, 'store'), ...SMALL_STORE });
  meta = await MetadataStore.open(path.join(dir, 'meta'));
  pop = await PopConsumption.open(meta, store, { brokerName: 'broker-a', clock, deadLetters: deadLettersInto(store), ...options });
  open = true;
}

/** The real DeadLetterQueue over the test's store; the DLQ topic config is made as the registry makes it. */
function deadLettersInto(target: MessageStore): DeadLetterQueue {
  const ensureDeadLetterTopic = async (group: string) =>
    createTopicConfig({ name: `%DLQ%${group}`, readQueueCount: 1, writeQueueCount: 1 }, { allowReserved: true });
  return new DeadLetterQueue(target, { ensureDeadLetterTopic });
}

async function closeAll(): Promise<void> {
  open = false;
  await meta.close();
  await store.close();
}

async function send(tags: readonly string[], topic = 'orders'): Promise<void> {
  for (const tag of tags) {
    const n = store.queueRange(topic, 0).max;
    await store.append({ topic, queueId: 0, body: Buffer.from(`m${n}`), messageId: `${topic}-${n}`, bornTimestampMs: 1, tag });
  }
}

function request(over: Partial<PopRequest> = {}): PopRequest {
  return {
    group: 'g',
    topic: 'orders',
    queueId: 0,
    maxCount: 10,
    invisibleDurationMs: INVISIBLE_MS,
    filter: ALL_TAGS,
    maxDeliveryAttempts: 17,
    ...over,
  };
}

const offsetsOf = (popped: PoppedMessage[]) => popped.map((p) => p.message.queueOffset);
const attemptsOf = (popped: PoppedMessage[]) => popped.map((p) => p.deliveryAttempt);
const ack = (p: PoppedMessage, group = 'g') => pop.ack({ group, topic: 'orders', receiptHandle: p.receiptHandle });
const position = (group = 'g') => pop.position({ group, topic: 'orders', queueId: 0 });

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'apogee-pop-'));
  await openAll();
});

afterEach(async () => {
  if (open) await closeAll();
  await rm(dir, { recursive: true, force: true });
});

describe('PopConsumption', () => {
  it('hides popped messages from the group, redelivers unacked ones after the deadline with attempt + 1', async () => {
    await send(['A', 'A', 'A']);
    const first = await pop.pop(request());
    expect(offsetsOf(first)).toEqual([0, 1, 2]);
    expect(attemptsOf(first)).toEqual([1, 1, 1]);
    expect(first[0].message.body.toString()).toBe('m0');
    expect(new Set(first.map((p) => p.receiptHandle)).size).toBe(3);
    expect(await pop.pop(request())).toEqual([]); // another consumer of the group sees nothing

    await expect(ack(first[0])).resolves.toEqual({ queueOffset: 0, committedOffset: 1 });
    clock.nowMs += INVISIBLE_MS - 1;
    expect(await pop.pop(request())).toEqual([]);
    clock.nowMs += 1;
    const again = await pop.pop(request({ maxCount: 1 }));
    expect(offsetsOf(again)).toEqual([1]);
    expect(attemptsOf(again)).toEqual([2]);
    await expect(ack(first[1])).rejects.toMatchObject({ code: 'RECEIPT_HANDLE_EXPIRED' });
    await send(['A']);
    const mixed = await pop.pop(request());
    expect(offsetsOf(mixed)).toEqual([2, 3]); // the due redelivery first, then the new message
    expect(attemptsOf(mixed)).toEqual([2, 1]);
    await ack(again[0]);
    await ack(mixed[0]);
    await expect(ack(mixed[1])).resolves.toEqual({ queueOffset: 3, committedOffset: 4 });
    await expect(ack(mixed[1])).rejects.toMatchObject({ code: 'RECEIPT_HANDLE_STALE' }); // already acked
  });

  it('changes the invisible duration with a new handle and makes the old one stale', async () => {
    await send(['A', 'A']);
    const [m0, m1] = await pop.pop(request());
    const changed = await pop.changeInvisibleDuration({
      group: 'g',
      topic: 'orders',
      receiptHandle: m0.receiptHandle,
      invisibleDurationMs: 2 * INVISIBLE_MS,
    });
    expect(changed.invisibleUntilMs).toBe(clock.nowMs + 2 * INVISIBLE_MS);
    await expect(ack(m0)).rejects.toMatchObject({ code: 'RECEIPT_HANDLE_STALE' });
    const nack = await pop.changeInvisibleDuration({ ...changed, group: 'g', topic: 'orders', invisibleDurationMs: 0 });
    expect(nack.receiptHandle).not.toBe(changed.receiptHandle);
    const retried = await pop.pop(request()); // m0 was nacked with 0 ms: due at once; m1 is still invisible
    expect(offsetsOf(retried)).toEqual([0]);
    expect(attemptsOf(retried)).toEqual([2]);
    await expect(ack(m1)).resolves.toEqual({ queueOffset: 1, committedOffset: 0 });
    await expect(
      pop.changeInvisibleDuration({ group: 'g', topic: 'orders', receiptHandle: retried[0].receiptHandle, invisibleDurationMs: -1 }),
    ).rejects.toMatchObject({ code: 'ILLEGAL_INVISIBLE_TIME' });
    await expect(pop.pop(request({ invisibleDurationMs: 13 * 3_600_000 }))).rejects.toMatchObject({
      code: 'ILLEGAL_INVISIBLE_TIME',
    });
  });

  it('rejects malformed, foreign and mismatched handles with INVALID_RECEIPT_HANDLE', async () => {
    await send(['A']);
    const [m0] = await pop.pop(request());
    const flipped = m0.receiptHandle.slice(0, 10) + (m0.receiptHandle[10] === 'A' ? 'B' : 'A') + m0.receiptHandle.slice(11);
    for (const receiptHandle of ['', 'not a handle!', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', flipped]) {
      await expect(pop.ack({ group: 'g', topic: 'orders', receiptHandle })).rejects.toMatchObject({
        code: 'INVALID_RECEIPT_HANDLE',
      });
    }
    await expect(pop.ack({ group: 'g', topic: 'other', receiptHandle: m0.receiptHandle })).rejects.toThrow(/for topic "orders"/);
    await closeAll();
    store = await MessageStore.open({ dir: path.join(dir, 'store'), ...SMALL_STORE });
    meta = await MetadataStore.open(path.join(dir, 'meta'));
    pop = await PopConsumption.open(meta, store, { brokerName: 'broker-b', clock, deadLetters: deadLettersInto(store) });
    open = true;
    await expect(ack(m0)).rejects.toThrow(/belongs to broker "broker-a"/);
    await expect(ack(m0, 'other-group')).rejects.toMatchObject({ code: 'INVALID_RECEIPT_HANDLE' });
  });

  it('keeps groups independent', async () => {
    await send(['A', 'A']);
    const g1 = await pop.pop(request({ group: 'g1' }));
    const g2 = await pop.pop(request({ group: 'g2' }));
    expect(offsetsOf(g1)).toEqual([0, 1]);
    expect(offsetsOf(g2)).toEqual([0, 1]);
    await ack(g1[0], 'g1');
    await ack(g1[1], 'g1');
    await expect(ack(g1[0], 'g2')).rejects.toMatchObject({ code: 'RECEIPT_HANDLE_STALE' });
    expect(position('g1')).toEqual({ committedOffset: 2, nextOffset: 2 });
    expect(position('g2')).toEqual({ committedOffset: 0, nextOffset: 2 });
    clock.nowMs += INVISIBLE_MS;
    expect(await pop.pop(request({ group: 'g1' }))).toEqual([]);
    expect(attemptsOf(await pop.pop(request({ group: 'g2' })))).toEqual([2, 2]);
  });

  it('keeps acked and in-flight state across a restart', async () => {
    await send(['A', 'A', 'A', 'A', 'A']);
    const popped = await pop.pop(request());
    await Promise.all([ack(popped[0]), ack(popped[1]), ack(popped[3])]);
    await closeAll();
    await openAll();
    expect(position()).toEqual({ committedOffset: 2, nextOffset: 5 });
    expect(await pop.pop(request())).toEqual([]); // nothing redelivered en masse
    await expect(ack(popped[2])).resolves.toEqual({ queueOffset: 2, committedOffset: 4 }); // handles survive
    clock.nowMs += INVISIBLE_MS;
    await send(['A']);
    const after = await pop.pop(request());
    expect(offsetsOf(after)).toEqual([4, 5]);
    expect(attemptsOf(after)).toEqual([2, 1]);
  });

  it('repairs a position left behind its in-flight records by a crash between the two writes', async () => {
    await send(['A', 'A', 'A']);
    const popped = await pop.pop(request());
    await ack(popped[0]);
    const offsets = await meta.table(POP_STATE_TABLE);
    await offsets.set(JSON.stringify(['g', 'orders', 0]), { committedOffset: 0, nextOffset: 1 });
    await closeAll();
    await openAll();
    expect(position()).toEqual({ committedOffset: 1, nextOffset: 3 });
    expect(await pop.pop(request())).toEqual([]);
  });

  it('takes over the per-message in-flight records of older brokers, and redelivers them when due', async () => {
    await send(['A', 'A']);
    await closeAll();
    const legacyMeta = await MetadataStore.open(path.join(dir, 'meta'));
    const legacy = await legacyMeta.table(LEGACY_INFLIGHT_TABLE);
    await legacy.set(JSON.stringify(['g', 'orders', 0, 1]), { queueOffset: 1, popId: 42, deliveryAttempt: 1, invisibleUntilMs: clock.nowMs + 1_000 });
    await (await legacyMeta.table(POP_STATE_TABLE)).set(JSON.stringify(['g', 'orders', 0]), { committedOffset: 1, nextOffset: 2 });
    await legacyMeta.close();
    await openAll();
    expect(pop.inflight.list({ group: 'g', topic: 'orders', queueId: 0 }).map((m) => m.popId)).toEqual([42]);
    expect((await meta.table(LEGACY_INFLIGHT_TABLE)).size).toBe(0);
    clock.nowMs += 1_000;
    const again = await pop.pop(request());
    expect(offsetsOf(again)).toEqual([1]);
    expect(attemptsOf(again)).toEqual([2]);
    await ack(again[0]);
    expect(position()).toEqual({ committedOffset: 2, nextOffset: 2 });
  });

  it('filters by tag and counts filtered-out messages as acked', async () => {
    await send(['A', 'B', 'C', 'A', 'B']);
    const popped = await pop.pop(request({ filter: parseTagFilter('A || C') }));
    expect(offsetsOf(popped)).toEqual([0, 2, 3]);
    expect(popped.map((p) => p.message.tag)).toEqual(['A', 'C', 'A']);
    for (const p of popped) await ack(p);
    expect(position()).toEqual({ committedOffset: 5, nextOffset: 5 }); // the trailing B was passed over too
    await send(['B']);
    expect(offsetsOf(await pop.pop(request({ filter: parseTagFilter('B') })))).toEqual([5]);
    expect(() => parseTagFilter('A||')).toThrow(expect.objectContaining({ code: 'ILLEGAL_FILTER_EXPRESSION' }));
  });

  it('advances the committed offset only over a contiguous acked prefix', async () => {
    await send(['A', 'A', 'A', 'A']);
    const [m0, m1, m2, m3] = await pop.pop(request());
    expect((await ack(m2)).committedOffset).toBe(0);
    expect((await ack(m0)).committedOffset).toBe(1);
    expect((await ack(m1)).committedOffset).toBe(3);
    expect((await ack(m3)).committedOffset).toBe(4);
  });

  it('moves a message due again after max delivery attempts to the group DLQ instead of delivering it', async () => {
    await send(['A', 'A']);
    const [m0] = await pop.pop(request({ maxDeliveryAttempts: 2 }));
    clock.nowMs += INVISIBLE_MS;
    expect(attemptsOf(await pop.pop(request({ maxDeliveryAttempts: 2, maxCount: 1 })))).toEqual([2]);
    await ack(m0).catch(() => undefined); // expired: no effect
    clock.nowMs += INVISIBLE_MS;
    const popped = await pop.pop(request({ maxDeliveryAttempts: 2 }));
    expect(offsetsOf(popped)).toEqual([1]); // offset 0 was delivered twice: dead-lettered, not delivered
    expect(pop.position({ group: 'g', topic: 'orders', queueId: 0 })).toEqual({ committedOffset: 1, nextOffset: 2 });
    const [dead] = store.readQueue('%DLQ%g', 0, 0, 10);
    expect(dead).toMatchObject({ messageId: 'orders-0', body: Buffer.from('m0'), tag: 'A' });
    expect(dead.properties).toEqual({ DLQ_ORIGIN_TOPIC: 'orders', DLQ_ORIGIN_MESSAGE_ID: 'orders-0', RECONSUME_TIME: '2' });
  });

  it('forwards a delivery to the DLQ on request and settles it like an ack', async () => {
    await send(['A', 'A']);
    const [m0, m1] = await pop.pop(request());
    const forwarded = await pop.forwardToDeadLetter({ group: 'g', topic: 'orders', receiptHandle: m0.receiptHandle });
    expect(forwarded).toEqual({ queueOffset: 0, committedOffset: 1 });
    expect(store.readQueue('%DLQ%g', 0, 0, 10).map((m) => m.messageId)).toEqual(['orders-0']);
    await expect(pop.forwardToDeadLetter({ group: 'g', topic: 'orders', receiptHandle: m0.receiptHandle })).rejects.toMatchObject({
      code: 'RECEIPT_HANDLE_STALE',
    });
    expect((await ack(m1)).committedOffset).toBe(2);
  });

  it('holds a FIFO queue back while a message is in flight, then redelivers in order before anything new', async () => {
    await send(['A', 'A', 'A', 'A']);
    const fifo = (over: Partial<PopRequest> = {}) => request({ fifo: true, ...over });
    const first = await pop.pop(fifo({ maxCount: 2 }));
    expect(offsetsOf(first)).toEqual([0, 1]);
    expect(await pop.pop(fifo())).toEqual([]); // 0 and 1 in flight: 2 and 3 wait
    expect(offsetsOf(await pop.pop(request({ group: 'std' })))).toEqual([0, 1, 2, 3]); // a standard group is not held back
    await ack(first[0], 'g');
    expect(await pop.pop(fifo())).toEqual([]); // 1 still in flight
    clock.nowMs += INVISIBLE_MS;
    const again = await pop.pop(fifo());
    expect(offsetsOf(again)).toEqual([1]); // the unacked one first, alone
    expect(attemptsOf(again)).toEqual([2]);
    await ack(again[0], 'g');
    expect(offsetsOf(await pop.pop(fifo()))).toEqual([2, 3]);
  });

  it('caps in-flight messages per queue', async () => {
    await closeAll();
    await openAll({ maxInflightPerQueue: 2 });
    await send(['A', 'A', 'A']);
    const popped = await pop.pop(request());
    expect(offsetsOf(popped)).toEqual([0, 1]);
    await ack(popped[0]);
    expect(offsetsOf(await pop.pop(request()))).toEqual([2]);
  });
});
