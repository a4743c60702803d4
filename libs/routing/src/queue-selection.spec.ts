import { messageGroupBucket } from './hashing';
import { compareQueues, queueKey } from './message-queue';
import { Permission } from './permissions';
import { MAX_COUNTER, type SelectableQueue, selectQueueForMessageGroup, selectQueueRoundRobin } from './queue-selection';
import { seededRandom } from '../test/seeded-random';

const q = (brokerName: string, queueId: number, permission: number = Permission.READ_WRITE): SelectableQueue => ({
  topic: 't',
  brokerName,
  queueId,
  permission,
});

function run(queues: SelectableQueue[], calls: number, isolated?: Set<string>, counter = 0): string[] {
  const picked: string[] = [];
  for (let i = 0; i < calls; i++) {
    const selection = selectQueueRoundRobin(queues, counter, { isolatedBrokers: isolated });
    if (selection.kind !== 'selected') throw new Error('nothing selected');
    picked.push(`${selection.queue.brokerName}/${selection.queue.queueId}`);
    counter = selection.nextCounter;
  }
  return picked;
}

describe('selectQueueRoundRobin', () => {
  const queues = [q('a', 0), q('a', 1, Permission.READ), q('a', 2), q('b', 0), q('b', 1, Permission.WRITE)];

  it('cycles over the writable queues in order', () => {
    expect(run(queues, 8)).toEqual(['a/0', 'a/2', 'b/0', 'b/1', 'a/0', 'a/2', 'b/0', 'b/1']);
  });

  it('starts at counter mod n and returns the next counter', () => {
    const selection = selectQueueRoundRobin(queues, 6);
    expect(selection).toEqual({ kind: 'selected', queue: queues[3], nextCounter: 7, isolationIgnored: false });
  });

  it('skips queues of isolated brokers', () => {
    expect(run(queues, 6, new Set(['a']))).toEqual(['b/0', 'b/1', 'b/0', 'b/1', 'b/0', 'b/1']);
  });

  it('ignores isolation when every writable queue is isolated', () => {
    const selection = selectQueueRoundRobin(queues, 1, { isolatedBrokers: new Set(['a', 'b']) });
    expect(selection).toMatchObject({ kind: 'selected', queue: queues[2], nextCounter: 2, isolationIgnored: true });
  });

  it('reports when no queue is writable', () => {
    expect(selectQueueRoundRobin([], 0)).toEqual({ kind: 'no-writable-queue' });
    expect(selectQueueRoundRobin([q('a', 0, Permission.READ), q('a', 1, Permission.NONE)], 0)).toEqual({
      kind: 'no-writable-queue',
    });
  });

  it('wraps the counter', () => {
    const selection = selectQueueRoundRobin(queues, MAX_COUNTER);
    expect(selection.kind === 'selected' && selection.nextCounter).toBe(0);
  });

  it('rejects bad counters', () => {
    for (const counter of [-1, 0.5, NaN, Infinity]) {
      expect(() => selectQueueRoundRobin(queues, counter)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });

  it('is fair without isolation and never picks an unwritable or avoidable queue (seeded)', () => {
    const random = seededRandom(3);
    for (let round = 0; round < 200; round++) {
      const all = ['a', 'b', 'c', 'd'].flatMap((broker) =>
        Array.from({ length: random.int(0, 4) }, (_, id) =>
          q(broker, id, random.pick([Permission.READ_WRITE, Permission.WRITE, Permission.READ, Permission.NONE])),
        ),
      );
      const writable = all.filter((x) => x.permission & Permission.WRITE).map((x) => `${x.brokerName}/${x.queueId}`);
      if (writable.length === 0) {
        expect(selectQueueRoundRobin(all, 0).kind).toBe('no-writable-queue');
        continue;
      }
      const counts = new Map<string, number>();
      for (const key of run(all, writable.length * 3, undefined, random.int(0, 1000))) counts.set(key, (counts.get(key) ?? 0) + 1);
      expect([...counts.keys()].sort()).toEqual([...writable].sort());
      expect(new Set(counts.values())).toEqual(new Set([3]));
      const isolated = new Set(['a', 'b', 'c', 'd'].filter(() => random.bool()));
      const healthy = writable.filter((key) => !isolated.has(key.split('/')[0]));
      for (const key of run(all, 10, isolated, random.int(0, 1000))) {
        expect(writable).toContain(key);
        if (healthy.length > 0) expect(healthy).toContain(key);
      }
    }
  });
});

describe('selectQueueForMessageGroup', () => {
  const queues = [q('b', 1), q('a', 0), q('a', 1, Permission.READ), q('b', 0), q('a', 2)];

  it('hashes the group over the writable queues sorted by broker and id', () => {
    const writable = queues.filter((x) => x.permission & Permission.WRITE).sort(compareQueues);
    for (const group of ['order-1', 'order-2', 'user-42', 'ümlaut']) {
      const selection = selectQueueForMessageGroup(queues, group);
      expect(selection).toEqual({ kind: 'selected', queue: writable[messageGroupBucket(group, writable.length)] });
    }
  });

  it('picks the same queue whatever order the queues come in (seeded)', () => {
    const random = seededRandom(5);
    for (let i = 0; i < 200; i++) {
      const group = `g-${random.int(0, 1e6)}`;
      const expected = selectQueueForMessageGroup(queues, group);
      expect(selectQueueForMessageGroup(random.shuffle(queues), group)).toEqual(expected);
    }
  });

  it('moves a group only to a newly added queue when a broker grows', () => {
    const before = Array.from({ length: 8 }, (_, id) => q('a', id));
    const after = [...before, q('a', 8)];
    let moved = 0;
    for (let i = 0; i < 2000; i++) {
      const a = selectQueueForMessageGroup(before, `g${i}`);
      const b = selectQueueForMessageGroup(after, `g${i}`);
      if (a.kind !== 'selected' || b.kind !== 'selected') throw new Error('nothing selected');
      if (queueKey(a.queue) !== queueKey(b.queue)) {
        moved++;
        expect(b.queue.queueId).toBe(8);
      }
    }
    expect(moved).toBeGreaterThan(2000 / 9 / 2);
    expect(moved).toBeLessThan((2000 / 9) * 2);
  });

  it('reports when no queue is writable and rejects an empty group', () => {
    expect(selectQueueForMessageGroup([q('a', 0, Permission.READ)], 'g')).toEqual({ kind: 'no-writable-queue' });
    expect(() => selectQueueForMessageGroup(queues, '')).toThrow(expect.objectContaining({ code: 'INVALID_MESSAGE_GROUP' }));
  });
});
