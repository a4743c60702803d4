import { ApogeeError } from '@apogee/protocol';
import { createTopicConfig, type TopicConfig } from '@apogee/routing';
import { checkOffsetInRange, nearestValidOffset, offsetOf, resolvePullQueue } from './pull-queue';

const orders = createTopicConfig({ name: 'orders', readQueueCount: 4, writeQueueCount: 2 });
const topics = { get: (name: string): TopicConfig | undefined => (name === 'orders' ? orders : undefined) };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof Error ? (err as ApogeeError).code : undefined;
  }
}

describe('resolvePullQueue', () => {
  it('takes the queue id literally, up to the larger of the read and write queue counts', () => {
    expect(resolvePullQueue(topics, { topic: { name: 'orders' }, id: 3 })).toEqual({ topic: orders, queueId: 3 });
    expect(resolvePullQueue(topics, { topic: { name: 'orders' } }).queueId).toBe(0);
  });

  it('refuses queue ids the topic does not have, naming the valid ones', () => {
    expect(() => resolvePullQueue(topics, { topic: { name: 'orders' }, id: 4 })).toThrow(/queues 0\.\.3; queue 4 does not exist/);
    expect(codeOf(() => resolvePullQueue(topics, { topic: { name: 'orders' }, id: -1 }))).toBe('BAD_REQUEST');
  });

  it('tells a malformed topic name from an unknown topic', () => {
    expect(codeOf(() => resolvePullQueue(topics, { topic: { name: 'bad topic!' } }))).toBe('INVALID_TOPIC_NAME');
    expect(codeOf(() => resolvePullQueue(topics, undefined))).toBe('INVALID_TOPIC_NAME');
    expect(codeOf(() => resolvePullQueue(topics, { topic: { name: 'missing' } }))).toBe('TOPIC_NOT_FOUND');
  });
});

describe('offsetOf', () => {
  it('reads int64 decimal strings and numbers, absent as 0', () => {
    expect(offsetOf('42')).toBe(42);
    expect(offsetOf(7)).toBe(7);
    expect(offsetOf(undefined)).toBe(0);
  });

  it('refuses negative, fractional and unsafe offsets with ILLEGAL_OFFSET', () => {
    for (const bad of ['-1', '1.5', '9223372036854775807', 'x']) expect(codeOf(() => offsetOf(bad))).toBe('ILLEGAL_OFFSET');
  });
});

describe('checkOffsetInRange', () => {
  const queue = { topic: orders, queueId: 1 };
  const range = { min: 10, max: 20 };

  it('accepts min through max inclusive (max waits for the next message)', () => {
    for (const offset of [10, 15, 20]) expect(() => checkOffsetInRange(offset, range, queue)).not.toThrow();
  });

  it('refuses offsets outside, naming the valid range', () => {
    expect(() => checkOffsetInRange(9, range, queue)).toThrow('Offset 9 is outside queue 1 of topic "orders": valid offsets are 10..20');
    expect(codeOf(() => checkOffsetInRange(21, range, queue))).toBe('ILLEGAL_OFFSET');
  });

  it('nearestValidOffset clamps into the range', () => {
    expect(nearestValidOffset(3, range)).toBe(10);
    expect(nearestValidOffset(99, range)).toBe(20);
    expect(nearestValidOffset(12, range)).toBe(12);
  });
});
