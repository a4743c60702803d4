import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApogeeError } from '@apogee/protocol';
import { createLogger } from '@apogee/runtime';
import { MessageStore, MetadataStore } from '@apogee/storage';
import { BUCKET_MS } from './timer-bucket-file';
import { delayedInputOf, DELIVER_MS_PROPERTY, ENQUEUE_MS_PROPERTY } from './timer-message';
import { TIMER_CHECKPOINT_TABLE, TimerStore, type TimerMessageStore } from './timer-store';

// The TimerStore over a real MessageStore and MetadataStore in a temporary directory, driven by
// a fake clock and runOnce() (no ticking): order, recall, restart, late ingestion.
const logger = createLogger({ app: 'broker', level: 'silent' });
const T0 = 1_800_000_000_000;
const TOPIC = 'delayed';

interface Opened {
  store: MessageStore;
  meta: MetadataStore;
  timer: TimerStore;
}

describe('TimerStore', () => {
  let dir: string;
  let clock: { now(): number; ms: number };
  let opened: Opened | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'apogee-timer-store-'));
    clock = { ms: T0, now: () => clock.ms };
  });
  afterEach(async () => {
    if (opened !== undefined) await closeAll(opened);
    opened = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  async function open(): Promise<Opened> {
    const store = await MessageStore.open({ dir: path.join(dir, 'store') }, { now: () => clock.now() });
    const meta = await MetadataStore.open(path.join(dir, 'meta'));
    const timer = await TimerStore.open({
      dir: path.join(dir, 'timer'),
      store,
      checkpoints: await meta.table<number>(TIMER_CHECKPOINT_TABLE),
      clock,
      logger,
    });
    opened = { store, meta, timer };
    return opened;
  }

  async function closeAll(o: Opened): Promise<void> {
    await o.timer.close();
    await o.store.close();
    await o.meta.close();
  }

  /** Sends a delayed message as the SendMessage handler does; its physical offset and due time. */
  async function sendDelayed(store: MessageStore, id: string, dueMs: number) {
    const input = delayedInputOf(
      { topic: TOPIC, queueId: 1, body: Buffer.from(id), messageId: id, bornTimestampMs: clock.now(), tag: 't', keys: ['k'], properties: { p: id } },
      dueMs,
      clock.now(),
    );
    const result = await store.append(input);
    return { topic: TOPIC, brokerName: 'b', dueMs, physicalOffset: result.physicalOffset, messageId: id };
  }

  const delivered = (store: MessageStore) => store.readQueue(TOPIC, 1, 0, 1000);

  it('fires each timer at its due time, in due order, keeping the message fields', async () => {
    const { store, timer } = await open();
    const dues = [5_000, 1_000, 30_000, 1_001, 12_000].map((d) => T0 + d);
    for (const [i, due] of dues.entries()) await sendDelayed(store, `m${i}`, due);
    await timer.runOnce();
    expect(delivered(store)).toEqual([]);

    clock.ms = T0 + 1_000;
    await timer.runOnce();
    expect(delivered(store).map((m) => m.messageId)).toEqual(['m1']);
    clock.ms = T0 + 29_999;
    await timer.runOnce();
    expect(delivered(store).map((m) => m.messageId)).toEqual(['m1', 'm3', 'm0', 'm4']);
    clock.ms = T0 + 40_000;
    await timer.runOnce();
    const all = delivered(store);
    expect(all.map((m) => m.messageId)).toEqual(['m1', 'm3', 'm0', 'm4', 'm2']);
    expect(all[0]).toMatchObject({ topic: TOPIC, queueId: 1, tag: 't', keys: ['k'], bornTimestampMs: T0 });
    expect(all[0].properties).toEqual({ p: 'm1', [DELIVER_MS_PROPERTY]: String(T0 + 1_000), [ENQUEUE_MS_PROPERTY]: String(T0) });
    expect(all[0].body.toString()).toBe('m1');
    expect(await readdir(path.join(dir, 'timer'))).toEqual([]); // fired buckets are deleted
  });

  it('after the log is cut back, ingests the timer records written at the reused offsets', async () => {
    const { store, timer } = await open();
    await sendDelayed(store, 'kept', T0 + 1_000);
    const cut = store.maxPhysicalOffset;
    await sendDelayed(store, 'cut-1', T0 + 1_000);
    await sendDelayed(store, 'cut-2', T0 + 1_000);
    await timer.runOnce(); // ingests all three (nothing due yet)
    await store.truncateTail(cut);
    await timer.afterTruncate();
    await sendDelayed(store, 'after', T0 + 2_000); // takes the queue offset of 'cut-1'
    clock.ms = T0 + 5_000;
    await timer.runOnce();
    const fired = delivered(store).map((m) => m.messageId);
    expect(fired).toContain('after');
    expect(fired).toContain('kept');
    expect(fired).not.toContain('cut-2');
  });

  it('recall cancels a pending timer once; a second recall and a recall after firing are TIMER_NOT_FOUND', async () => {
    const { store, timer } = await open();
    const kept = await sendDelayed(store, 'kept', T0 + 2_000);
    const recalled = await sendDelayed(store, 'recalled', T0 + 2_000);
    await expect(timer.recall(recalled)).resolves.toBe('recalled');
    await expect(timer.recall(recalled)).rejects.toMatchObject({ code: 'TIMER_NOT_FOUND', message: expect.stringMatching(/already recalled/) });
    clock.ms = T0 + 3_000;
    await timer.runOnce();
    expect(delivered(store).map((m) => m.messageId)).toEqual(['kept']);
    await expect(timer.recall(kept)).rejects.toMatchObject({ code: 'TIMER_NOT_FOUND', message: expect.stringMatching(/already delivered/) });
    await expect(timer.recall({ ...kept, dueMs: T0 + 99_000 })).rejects.toBeInstanceOf(ApogeeError);
    await expect(timer.recall({ ...kept, physicalOffset: kept.physicalOffset + 1, dueMs: T0 + 99_000 })).rejects.toMatchObject({
      code: 'TIMER_NOT_FOUND',
    });
  });

  it('recall in the bucket being fired is honoured', async () => {
    const { store, timer } = await open();
    await sendDelayed(store, 'a', T0 + 100);
    const b = await sendDelayed(store, 'b', T0 + 200);
    clock.ms = T0 + 150;
    await timer.runOnce(); // bucket loaded, a fired
    await timer.recall(b);
    clock.ms = T0 + BUCKET_MS * 2;
    await timer.runOnce();
    expect(delivered(store).map((m) => m.messageId)).toEqual(['a']);
  });

  it('after a restart, fires pending timers, those due during the downtime at once, and keeps recalls', async () => {
    let o = await open();
    await sendDelayed(o.store, 'during-downtime', T0 + 5_000);
    await sendDelayed(o.store, 'later', T0 + 3 * BUCKET_MS + 7);
    const recalled = await sendDelayed(o.store, 'recalled', T0 + 6_000);
    await o.timer.runOnce();
    await o.timer.recall(recalled);
    await closeAll(o);
    opened = undefined;

    clock.ms = T0 + 20_000;
    o = await open();
    await o.timer.runOnce();
    expect(delivered(o.store).map((m) => m.messageId)).toEqual(['during-downtime']);
    clock.ms = T0 + 3 * BUCKET_MS + 7;
    await o.timer.runOnce();
    expect(delivered(o.store).map((m) => m.messageId)).toEqual(['during-downtime', 'later']);
  });

  it('a failed fire is retried from the bucket file: each message delivered once', async () => {
    const { store, meta } = await open();
    await opened!.timer.close();
    let failNext = true;
    const flaky: TimerMessageStore = {
      entries: (...args) => store.entries(...args),
      read: (...args) => store.read(...args),
      onDispatch: (listener) => store.onDispatch(listener),
      queueRange: (...args) => store.queueRange(...args),
      get minPhysicalOffset() {
        return store.minPhysicalOffset;
      },
      get maxPhysicalOffset() {
        return store.maxPhysicalOffset;
      },
      appendBatch: (inputs) => {
        if (failNext && inputs.some((input) => input.topic === TOPIC)) {
          failNext = false;
          return Promise.reject(new Error('disk hiccup'));
        }
        return store.appendBatch(inputs);
      },
    };
    const checkpoints = await meta.table<number>(TIMER_CHECKPOINT_TABLE);
    const timer = await TimerStore.open({ dir: path.join(dir, 'timer'), store: flaky, checkpoints, clock, logger });
    opened = { store, meta, timer };
    await sendDelayed(store, 'a', T0 + 100);
    await sendDelayed(store, 'b', T0 + 200);
    await timer.runOnce();
    clock.ms = T0 + 500;
    await expect(timer.runOnce()).rejects.toThrow('disk hiccup');
    expect(delivered(store)).toEqual([]);
    await timer.runOnce();
    expect(delivered(store).map((m) => m.messageId)).toEqual(['a', 'b']);
  });

  it('a timer filed after its due time has passed fires at once', async () => {
    const { store, timer } = await open();
    clock.ms = T0 + 10_000;
    await timer.runOnce(); // fired up to T0 + 10 s
    const input = delayedInputOf({ topic: TOPIC, queueId: 1, body: Buffer.from('x'), messageId: 'late', bornTimestampMs: T0 }, T0 + 9_000, T0);
    await store.append(input); // stored as a timer (due in the future when "sent")
    await timer.runOnce();
    expect(delivered(store).map((m) => m.messageId)).toEqual(['late']);
  });
});
