import { compareQueues, compareStrings, queueKey, type QueueRef } from './message-queue';

const q = (topic: string, brokerName: string, queueId: number): QueueRef => ({ topic, brokerName, queueId });

describe('message queues', () => {
  it('order by topic, broker name, then numeric queue id', () => {
    const queues = [q('t', 'b', 0), q('t', 'a', 10), q('s', 'z', 5), q('t', 'a', 9)];
    expect([...queues].sort(compareQueues).map(queueKey)).toEqual(['s@z@5', 't@a@9', 't@a@10', 't@b@0']);
  });

  it('compare strings by UTF-16 code unit like Java, not by locale', () => {
    expect(['b', 'B', 'a', 'A', '_', '-', '10', '9'].sort(compareStrings)).toEqual(['-', '10', '9', 'A', 'B', '_', 'a', 'b']);
    expect(compareStrings('x', 'x')).toBe(0);
  });

  it('key queues as topic@brokerName@queueId', () => {
    expect(queueKey(q('orders', 'broker-a', 3))).toBe('orders@broker-a@3');
  });
});
