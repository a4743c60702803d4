/**
 * Consumer queue assignment for clustering consumption: which of a topic's queues one
 * consumer of a group reads, so that every queue has exactly one reader.
 *
 * Both strategies are RocketMQ's (`AllocateMessageQueueAveragely`,
 * `AllocateMessageQueueAveragelyByCircle`) and run over the queues and the consumer ids
 * sorted, as RocketMQ's rebalance sorts them first; sorting here makes the answer independent
 * of the order the caller happens to hold them in, so every consumer computes the same split.
 * Duplicate consumer ids count once. Given q queues and c consumers, each consumer gets
 * floor(q/c) or ceil(q/c) queues; when c > q, the last c - q consumers get none.
 *
 * - averagely: contiguous ranges; the first q mod c consumers take one extra queue.
 *   5 queues, 2 consumers → [0,1,2] and [3,4].
 * - by circle: dealt out like cards. 5 queues, 2 consumers → [0,2,4] and [1,3].
 */
import { compareQueues, compareStrings, queueKey, type QueueRef } from './message-queue';
import { RoutingError } from './routing-error';

export type AssignmentStrategy = 'averagely' | 'by-circle';

/** RocketMQ `AllocateMessageQueueAveragely`. Empty when `consumerId` is not among `consumerIds`. */
export function allocateAveragely<Q extends QueueRef>(
  queues: readonly Q[],
  consumerIds: readonly string[],
  consumerId: string,
): Q[] {
  const { sorted, index, consumerCount } = prepare(queues, consumerIds, consumerId);
  if (index < 0 || sorted.length === 0) return [];
  const queueCount = sorted.length;
  const mod = queueCount % consumerCount;
  const takesExtra = mod > 0 && index < mod;
  const base = Math.floor(queueCount / consumerCount);
  const averageSize = queueCount <= consumerCount ? 1 : takesExtra ? base + 1 : base;
  const startIndex = takesExtra ? index * averageSize : index * averageSize + mod;
  const range = Math.min(averageSize, queueCount - startIndex);
  const result: Q[] = [];
  for (let i = 0; i < range; i++) result.push(sorted[(startIndex + i) % queueCount]);
  return result;
}

/** RocketMQ `AllocateMessageQueueAveragelyByCircle`. Empty when `consumerId` is not among `consumerIds`. */
export function allocateByCircle<Q extends QueueRef>(
  queues: readonly Q[],
  consumerIds: readonly string[],
  consumerId: string,
): Q[] {
  const { sorted, index, consumerCount } = prepare(queues, consumerIds, consumerId);
  if (index < 0) return [];
  const result: Q[] = [];
  for (let i = index; i < sorted.length; i += consumerCount) result.push(sorted[i]);
  return result;
}

/** The whole split at once: consumer id → its queues, for every distinct consumer id. */
export function assignQueues<Q extends QueueRef>(
  queues: readonly Q[],
  consumerIds: readonly string[],
  strategy: AssignmentStrategy = 'averagely',
): Map<string, Q[]> {
  const allocate = strategy === 'averagely' ? allocateAveragely : allocateByCircle;
  const consumers = [...new Set(consumerIds)].sort(compareStrings);
  return new Map(consumers.map((id) => [id, allocate(queues, consumers, id)]));
}

function prepare<Q extends QueueRef>(
  queues: readonly Q[],
  consumerIds: readonly string[],
  consumerId: string,
): { sorted: Q[]; index: number; consumerCount: number } {
  if (consumerId.length === 0) {
    throw new RoutingError('INVALID_ARGUMENT', 'Consumer id is empty; assignment needs the id of the consumer asking');
  }
  const sorted = [...queues].sort(compareQueues);
  for (let i = 1; i < sorted.length; i++) {
    if (compareQueues(sorted[i - 1], sorted[i]) === 0) {
      throw new RoutingError(
        'INVALID_ARGUMENT',
        `Queue ${queueKey(sorted[i])} is listed twice; each queue must appear once to be assigned once`,
      );
    }
  }
  const consumers = [...new Set(consumerIds)].sort(compareStrings);
  return { sorted, index: consumers.indexOf(consumerId), consumerCount: consumers.length };
}
