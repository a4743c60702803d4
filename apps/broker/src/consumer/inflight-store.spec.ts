import { batchKey, InflightStore, type InflightMessage } from './inflight-store';

const ref = { group: 'g', topic: 't', queueId: 1 };
const record = (queueOffset: number, popId: number, deliveryAttempt = 1, invisibleUntilMs = 1_000): InflightMessage => ({
  queueOffset,
  popId,
  deliveryAttempt,
  invisibleUntilMs,
});

/** Applies a plan to a plain map standing for the table, then to the store, as PopConsumption does. */
function commit(store: InflightStore, table: Map<string, unknown>, removed: number[], added: InflightMessage[]): ReturnType<InflightStore['plan']> {
  const plan = store.plan(ref, removed, added);
  for (const [key, value] of plan.set) table.set(key, JSON.parse(JSON.stringify(value)));
  for (const key of plan.delete) table.delete(key);
  plan.apply();
  return plan;
}

describe('InflightStore', () => {
  it('stores one pop as one batch entry and shrinks it as its messages are acked', () => {
    const table = new Map<string, unknown>();
    const store = new InflightStore([]);
    const plan = commit(store, table, [], [record(5, 7), record(6, 7), record(8, 7)]);
    expect(plan.bounds).toEqual({ lowest: 5, highest: 8 });
    expect([...table]).toEqual([[batchKey(ref, 7), { invisibleUntilMs: 1_000, entries: [5, 1, 6, 1, 8, 1] }]]);
    commit(store, table, [6], []);
    expect(table.get(batchKey(ref, 7))).toEqual({ invisibleUntilMs: 1_000, entries: [5, 1, 8, 1] });
    expect(store.list(ref).map((m) => m.queueOffset)).toEqual([5, 8]);
    const last = commit(store, table, [5, 8], []);
    expect(last.delete).toEqual([batchKey(ref, 7)]);
    expect(last.bounds).toBeUndefined();
    expect(table.size).toBe(0);
    expect(store.queues()).toEqual([]);
  });

  it('moves a redelivered message out of its old batch into the new pop', () => {
    const table = new Map<string, unknown>();
    const store = new InflightStore([]);
    commit(store, table, [], [record(1, 3), record(2, 3)]);
    commit(store, table, [], [record(1, 4, 2, 9_000), record(3, 4, 1, 9_000)]);
    expect(table.get(batchKey(ref, 3))).toEqual({ invisibleUntilMs: 1_000, entries: [2, 1] });
    expect(table.get(batchKey(ref, 4))).toEqual({ invisibleUntilMs: 9_000, entries: [1, 2, 3, 1] });
    expect(store.get(ref, 1)).toEqual(record(1, 4, 2, 9_000));
  });

  it('reads back what it wrote, and per-message entries of older brokers as batches of one', () => {
    const table = new Map<string, unknown>();
    const writer = new InflightStore([]);
    commit(writer, table, [], [record(10, 1), record(11, 1)]);
    const legacyKey = JSON.stringify(['g', 't', 1, 12]);
    table.set(legacyKey, record(12, 99, 3, 5_000));
    table.set(JSON.stringify(['g', 't', 1]), { committedOffset: 10, nextOffset: 13 }); // a position: skipped
    const reader = new InflightStore(table);
    expect(reader.list(ref)).toEqual([record(10, 1), record(11, 1), record(12, 99, 3, 5_000)]);
    const plan = reader.plan(ref, [12], []);
    expect(plan.delete).toEqual([legacyKey]);
    expect(plan.set).toEqual([]);
  });

  it('never hands out a popId a batch of the queue still uses', () => {
    const table = new Map<string, unknown>();
    const store = new InflightStore([]);
    commit(store, table, [], [record(0, 2)]);
    const ids = [2, 2, 5];
    expect(store.freshPopId(ref, () => ids.shift() as number)).toBe(5);
  });

  it('refuses one popId with two invisible-until times', () => {
    const store = new InflightStore([]);
    expect(() => store.plan(ref, [], [record(0, 1, 1, 5), record(1, 1, 1, 6)])).toThrow(/mixes/);
  });
});
