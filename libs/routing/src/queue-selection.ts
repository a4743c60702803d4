/**
 * Producer queue selection, as pure functions: the caller keeps the per-topic counter and
 * passes it back in.
 *
 * - Round-robin: the writable queues in the order given (a route lists them sorted), starting
 *   at `counter mod n`, skipping queues of isolated brokers (ones that just failed a send).
 *   When every writable queue is on an isolated broker, isolation is ignored rather than
 *   refusing the send, as RocketMQ's clients do.
 * - FIFO by message group: the writable queues sorted by (broker name, queue id), and the one
 *   at `messageGroupBucket(group, n)` (Java `String.hashCode` + Guava `consistentHash`, the
 *   choice RocketMQ 5's proxy makes). Isolation is deliberately not applied: moving a group to
 *   another queue would break its order.
 */
import { compareQueues, type QueueRef } from './message-queue';
import { isWritable, type Permission } from './permissions';
import { messageGroupBucket } from './hashing';
import { RoutingError } from './routing-error';

export interface SelectableQueue extends QueueRef {
  readonly permission: Permission;
}

export interface RoundRobinOptions {
  /** Broker names to avoid while any other broker has a writable queue. */
  readonly isolatedBrokers?: ReadonlySet<string>;
}

export type RoundRobinSelection<Q> =
  | {
      readonly kind: 'selected';
      readonly queue: Q;
      /** Pass this as `counter` next time. */
      readonly nextCounter: number;
      /** True when every writable queue was on an isolated broker. */
      readonly isolationIgnored: boolean;
    }
  | { readonly kind: 'no-writable-queue' };

export type GroupSelection<Q> = { readonly kind: 'selected'; readonly queue: Q } | { readonly kind: 'no-writable-queue' };

/** Counters wrap here, well inside the safe-integer range. */
export const MAX_COUNTER = 2 ** 31 - 1;

export function selectQueueRoundRobin<Q extends SelectableQueue>(
  queues: readonly Q[],
  counter: number,
  options: RoundRobinOptions = {},
): RoundRobinSelection<Q> {
  if (!Number.isSafeInteger(counter) || counter < 0) {
    throw new RoutingError('INVALID_ARGUMENT', `Counter ${String(counter)} is invalid; it must be an integer ≥ 0`);
  }
  const writable = queues.filter((queue) => isWritable(queue.permission));
  if (writable.length === 0) return { kind: 'no-writable-queue' };
  const isolated = options.isolatedBrokers;
  for (let step = 0; step < writable.length; step++) {
    const queue = writable[(counter + step) % writable.length];
    if (!isolated?.has(queue.brokerName)) {
      return { kind: 'selected', queue, nextCounter: advance(counter, step + 1), isolationIgnored: false };
    }
  }
  const queue = writable[counter % writable.length];
  return { kind: 'selected', queue, nextCounter: advance(counter, 1), isolationIgnored: true };
}

export function selectQueueForMessageGroup<Q extends SelectableQueue>(
  queues: readonly Q[],
  messageGroup: string,
): GroupSelection<Q> {
  if (messageGroup.length === 0) {
    throw new RoutingError('INVALID_MESSAGE_GROUP', 'Message group is empty; FIFO selection needs a non-empty group');
  }
  const writable = queues.filter((queue) => isWritable(queue.permission)).sort(compareQueues);
  if (writable.length === 0) return { kind: 'no-writable-queue' };
  return { kind: 'selected', queue: writable[messageGroupBucket(messageGroup, writable.length)] };
}

function advance(counter: number, steps: number): number {
  return (counter + steps) % (MAX_COUNTER + 1);
}
