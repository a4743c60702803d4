import { queueKey, type QueueRef } from './message-queue';
import { allocateAveragely, allocateByCircle, assignQueues } from './queue-assignment';
import { seededRandom } from '../test/seeded-random';

const queue = (brokerName: string, queueId: number, topic = 't'): QueueRef => ({ topic, brokerName, queueId });
const ids = (queues: readonly QueueRef[]) => queues.map((x) => `${x.brokerName}/${x.queueId}`);
const tenQueues = Array.from({ length: 10 }, (_, i) => queue('a', i));
const three = ['c0', 'c1', 'c2'];

describe('allocateAveragely', () => {
  it('gives contiguous ranges, the first q mod c consumers one extra (RocketMQ)', () => {
    expect(three.map((c) => ids(allocateAveragely(tenQueues, three, c)))).toEqual([
      ['a/0', 'a/1', 'a/2', 'a/3'],
      ['a/4', 'a/5', 'a/6'],
      ['a/7', 'a/8', 'a/9'],
    ]);
  });

  it('gives one queue each to the first q consumers when consumers outnumber queues', () => {
    const consumers = ['c0', 'c1', 'c2', 'c3', 'c4'];
    expect(consumers.map((c) => ids(allocateAveragely(tenQueues.slice(0, 3), consumers, c)))).toEqual([
      ['a/0'],
      ['a/1'],
      ['a/2'],
      [],
      [],
    ]);
  });

  it('sorts queues by broker name then numeric id, and consumers by id', () => {
    const queues = [queue('b', 0), queue('a', 10), queue('a', 9), queue('a', 2)];
    expect(ids(allocateAveragely(queues, ['z', 'y'], 'y'))).toEqual(['a/2', 'a/9']);
    expect(ids(allocateAveragely(queues, ['z', 'y'], 'z'))).toEqual(['a/10', 'b/0']);
  });
});

describe('allocateByCircle', () => {
  it('deals queues out like cards (RocketMQ)', () => {
    expect(three.map((c) => ids(allocateByCircle(tenQueues, three, c)))).toEqual([
      ['a/0', 'a/3', 'a/6', 'a/9'],
      ['a/1', 'a/4', 'a/7'],
      ['a/2', 'a/5', 'a/8'],
    ]);
  });
});

describe.each([
  ['averagely', allocateAveragely],
  ['by-circle', allocateByCircle],
] as const)('%s edge cases', (strategy, allocate) => {
  it('gives nothing to an unknown consumer or when there are no queues', () => {
    expect(allocate(tenQueues, three, 'stranger')).toEqual([]);
    expect(allocate(tenQueues, [], 'c0')).toEqual([]);
    expect(allocate([], three, 'c0')).toEqual([]);
  });

  it('counts a duplicated consumer id once', () => {
    expect(allocate(tenQueues, ['c0', 'c1', 'c0', 'c2'], 'c1')).toEqual(allocate(tenQueues, three, 'c1'));
    expect(assignQueues(tenQueues, ['c1', 'c1'], strategy).get('c1')).toHaveLength(10);
  });

  it('rejects an empty consumer id and duplicated queues', () => {
    expect(() => allocate(tenQueues, three, '')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => allocate([queue('a', 1), queue('a', 1)], three, 'c0')).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('t@a@1') }),
    );
  });
});

describe('assignment properties (seeded)', () => {
  function randomCase(seed: number): { queues: QueueRef[]; consumers: string[] } {
    const random = seededRandom(seed);
    const queues = ['broker-a', 'broker-b', 'broker-c', 'broker-d']
      .slice(0, random.int(1, 4))
      .flatMap((broker) => Array.from({ length: random.int(0, 16) }, (_, id) => queue(broker, id)));
    const consumers = Array.from({ length: random.int(1, 12) }, (_, i) => `10.0.0.${random.int(1, 250)}@${i}`);
    return { queues: random.shuffle(queues), consumers: random.shuffle(consumers) };
  }

  /** Independent model: consumer i of c takes floor(q/c) (+1 if i < q mod c) queues, in order. */
  function averagelyOracle(sorted: string[], consumerCount: number, index: number): string[] {
    const base = Math.floor(sorted.length / consumerCount);
    const extra = sorted.length % consumerCount;
    const start = index * base + Math.min(index, extra);
    return sorted.slice(start, start + base + (index < extra ? 1 : 0));
  }

  it.each(Array.from({ length: 300 }, (_, i) => i + 1))('seed %d', (seed) => {
    const { queues, consumers } = randomCase(seed);
    const random = seededRandom(seed * 7919);
    const sortedKeys = [...queues].sort((a, b) => a.brokerName.localeCompare(b.brokerName) || a.queueId - b.queueId).map(queueKey);
    const sortedConsumers = [...new Set(consumers)].sort();
    for (const strategy of ['averagely', 'by-circle'] as const) {
      const split = assignQueues(queues, consumers, strategy);
      const all = [...split.values()].flat().map(queueKey);
      expect(all.sort()).toEqual([...sortedKeys].sort());
      const sizes = [...split.values()].map((x) => x.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      const permuted = assignQueues(random.shuffle(queues), random.shuffle(consumers), strategy);
      expect(new Map([...permuted].map(([c, x]) => [c, x.map(queueKey)]))).toEqual(
        new Map([...split].map(([c, x]) => [c, x.map(queueKey)])),
      );
      sortedConsumers.forEach((consumer, index) => {
        const got = (split.get(consumer) ?? []).map(queueKey);
        const expected =
          strategy === 'averagely'
            ? averagelyOracle(sortedKeys, sortedConsumers.length, index)
            : sortedKeys.filter((_, i) => i % sortedConsumers.length === index);
        expect(got).toEqual(expected);
      });
    }
  });
});
