import { broadcastStateKey } from './broadcast-state';
import { broadcastClientKeys, broadcastStartOffset, groupStartRef } from './broadcast-positions';
import type { QueuePosition } from './consumer-offsets';
import { queueKey, type QueueRef } from './queue-ref';

function fakeOffsets(positions: Array<[QueueRef, number]>) {
  const table = new Map(positions.map(([ref, next]) => [queueKey(ref), [ref, { committedOffset: next, nextOffset: next }] as const]));
  return {
    get: (ref: QueueRef): QueuePosition | undefined => table.get(queueKey(ref))?.[1],
    *entries(): IterableIterator<[QueueRef, QueuePosition]> {
      for (const [ref, position] of table.values()) yield [ref, position];
    },
  };
}

const store = { queueRange: () => ({ min: 5, max: 20 }) };
const a = broadcastStateKey('fanout', 'a@1@0@0');
const b = broadcastStateKey('fanout', 'b@1@0@0');

describe('broadcastStartOffset', () => {
  it("starts a new client at the queue's end while the group has no start", () => {
    expect(broadcastStartOffset({ offsets: fakeOffsets([]), store }, { group: a, topic: 't', queueId: 0 })).toBe(20);
  });

  it("starts it at the group's start (ResetOffset), kept within the queue's range", () => {
    const offsets = fakeOffsets([
      [{ group: 'fanout', topic: 't', queueId: 0 }, 7],
      [{ group: 'fanout', topic: 't', queueId: 1 }, 0],
      [{ group: 'fanout', topic: 't', queueId: 2 }, 99],
    ]);
    const start = (queueId: number) => broadcastStartOffset({ offsets, store }, { group: a, topic: 't', queueId });
    expect([start(0), start(1), start(2), start(3)]).toEqual([7, 5, 20, 20]);
  });

  it("reads the group's start under the plain group name", () => {
    expect(groupStartRef({ group: a, topic: 't', queueId: 3 })).toEqual({ group: 'fanout', topic: 't', queueId: 3 });
  });
});

describe('broadcastClientKeys', () => {
  const offsets = fakeOffsets([
    [{ group: b, topic: 't', queueId: 0 }, 1],
    [{ group: a, topic: 't', queueId: 1 }, 1],
    [{ group: a, topic: 't', queueId: 0 }, 1],
    [{ group: a, topic: 'u', queueId: 0 }, 1],
    [{ group: 'fanout', topic: 't', queueId: 0 }, 1],
    [{ group: broadcastStateKey('fanout-2', 'a@1@0@0'), topic: 't', queueId: 0 }, 1],
  ]);

  it("lists each client of the group once, sorted, without the group's own start or other groups", () => {
    expect(broadcastClientKeys(offsets, 'fanout')).toEqual([a, b]);
  });

  it('lists only the clients with a position on the topic when one is given', () => {
    expect(broadcastClientKeys(offsets, 'fanout', 'u')).toEqual([a]);
    expect(broadcastClientKeys(offsets, 'fanout', 'v')).toEqual([]);
  });
});
