import { ApogeeError } from '@apogee/protocol';
import { topicStats, type TopicStatsDeps } from './topic-stats';

const NOW = 1_700_000_000_000;

function deps(ranges: Record<number, { min: number; max: number }>, readQueueCount = 2, writeQueueCount = 2): TopicStatsDeps {
  return {
    topics: {
      require: (name) => {
        if (name !== 'orders') throw new ApogeeError('TOPIC_NOT_FOUND', `Topic ${name} does not exist`);
        return { name, readQueueCount, writeQueueCount, permission: 'RW', messageType: 'NORMAL' } as never;
      },
    },
    store: {
      queueIds: () => Object.keys(ranges).map(Number),
      queueRange: (_topic, queueId) => ranges[queueId] ?? { min: 0, max: 0 },
      readQueue: (_topic, queueId, from) => {
        if (queueId === 3) throw new Error('corrupt');
        return [{ storeTimestampMs: NOW + queueId * 1_000 + from } as never];
      },
    },
  };
}

describe('TopicStats', () => {
  it('answers every queue of the topic by id with its range and the store time of its newest message', () => {
    expect(topicStats(deps({ 1: { min: 2, max: 10 } }), 'orders')).toEqual({
      topic: 'orders',
      queues: [
        { queue_id: 0, min_offset: 0, max_offset: 0, last_store_timestamp_ms: 0 },
        { queue_id: 1, min_offset: 2, max_offset: 10, last_store_timestamp_ms: NOW + 1_000 + 9 },
      ],
    });
  });

  it('also lists queues past the queue count that hold messages, and answers 0 for a newest message it cannot read', () => {
    const { queues } = topicStats(deps({ 0: { min: 0, max: 1 }, 3: { min: 0, max: 4 } }, 1, 1), 'orders');
    expect(queues?.map((q) => [q.queue_id, q.max_offset, q.last_store_timestamp_ms])).toEqual([
      [0, 1, NOW],
      [3, 4, 0],
    ]);
  });

  it('refuses an unknown topic (TOPIC_NOT_FOUND) and a bad name', () => {
    expect(() => topicStats(deps({}), 'missing')).toThrow(expect.objectContaining({ code: 'TOPIC_NOT_FOUND' }));
    expect(() => topicStats(deps({}), 'bad name')).toThrow(/name/i);
  });
});
