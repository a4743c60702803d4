/**
 * What the offset-based pull RPCs (PullMessage, GetOffset, UpdateOffset; doc §3.13) share: the
 * queue a request names and the QueueOffset it carries. Unlike ReceiveMessage the queue id is
 * taken literally — a pull consumer owns the queues it reads — so it must exist on the topic.
 */
import { ApogeeError } from '@apogee/protocol';
import { queueIdCount, validateConsumableTopicName, type TopicConfig } from '@apogee/routing';
import type { TopicRegistry } from '../metadata/topic-registry';
import type { WireOffsetQueue } from './v2-wire';

export interface PullQueue {
  readonly topic: TopicConfig;
  readonly queueId: number;
}

export interface QueueRange {
  readonly min: number;
  readonly max: number;
}

/** The topic (ILLEGAL_TOPIC / TOPIC_NOT_FOUND) and queue id (BAD_REQUEST unless 0..n-1) of a request. */
export function resolvePullQueue(topics: Pick<TopicRegistry, 'get'>, queue: WireOffsetQueue | undefined): PullQueue {
  const name = queue?.topic?.name ?? '';
  validateConsumableTopicName(name);
  const topic = topics.get(name);
  if (topic === undefined) {
    throw new ApogeeError('TOPIC_NOT_FOUND', `Topic ${JSON.stringify(name)} does not exist on this broker; check the name or create it`);
  }
  const queueId = queue?.id ?? 0;
  const count = queueIdCount(topic);
  if (!Number.isInteger(queueId) || queueId < 0 || queueId >= count) {
    throw new ApogeeError('BAD_REQUEST', `Topic ${JSON.stringify(name)} has queues 0..${count - 1}; queue ${queueId} does not exist`);
  }
  return { topic, queueId };
}

/** An int64 QueueOffset field (a decimal string on the wire); ILLEGAL_OFFSET unless a non-negative safe integer. */
export function offsetOf(value: string | number | undefined): number {
  const offset = Number(value ?? 0);
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new ApogeeError('ILLEGAL_OFFSET', `Offset ${JSON.stringify(value)} is not a non-negative integer`);
  }
  return offset;
}

/**
 * ILLEGAL_OFFSET unless min ≤ offset ≤ max (max is the next offset to be written: reading from
 * it waits for new messages, committing it means everything was consumed).
 */
export function checkOffsetInRange(offset: number, range: QueueRange, queue: PullQueue): void {
  if (offset < range.min || offset > range.max) {
    throw new ApogeeError(
      'ILLEGAL_OFFSET',
      `Offset ${offset} is outside queue ${queue.queueId} of topic ${JSON.stringify(queue.topic.name)}: ` +
        `valid offsets are ${range.min}..${range.max}`,
    );
  }
}

/** The valid offset nearest to `offset`: where a pull consumer that fell out of range should resume. */
export function nearestValidOffset(offset: number, range: QueueRange): number {
  return Math.min(Math.max(offset, range.min), range.max);
}
