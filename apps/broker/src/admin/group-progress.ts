/**
 * BrokerAdmin.GroupProgress (consumer lag, RocketMQ's `consumerProgress`): for each queue of this
 * broker that a group has a position in (ConsumerOffsets), or for every queue of one topic, the
 * committed and next offsets, the queue's stored range, the lag in messages and in seconds, and
 * the messages in flight. Read-only: it touches no state, and per lagging queue reads one
 * consume-queue entry and one message (for the store time of the oldest unacked message).
 */
import type { AdminGroupProgressRequest, AdminQueueProgress, BrokerAdminHandlers } from '@apogee/protocol';
import type { Clock } from '@apogee/runtime';
import type { MessageStore } from '@apogee/storage';
import { validateGroupName, validateTopicName } from '@apogee/routing';
import type { QueuePosition } from '../consumer/consumer-offsets';
import type { PopConsumption } from '../consumer/pop-consumption';
import type { QueueRef } from '../consumer/queue-ref';
import type { GroupRegistry } from '../metadata/group-registry';
import type { TopicRegistry } from '../metadata/topic-registry';

type ProgressHandlers = Pick<BrokerAdminHandlers, 'GroupProgress'>;

export interface GroupProgressDeps {
  readonly topics: Pick<TopicRegistry, 'require'>;
  readonly groups: Pick<GroupRegistry, 'require'>;
  readonly store: Pick<MessageStore, 'queueRange' | 'entries' | 'read'>;
  readonly consumption: Pick<PopConsumption, 'offsets' | 'inflight' | 'nextOffset'>;
  readonly clock: Clock;
}

export function groupProgressHandlers(deps: GroupProgressDeps): ProgressHandlers {
  return { GroupProgress: async (request) => groupProgress(deps, request) };
}

export function groupProgress(deps: GroupProgressDeps, request: AdminGroupProgressRequest) {
  const group = request.group ?? '';
  validateGroupName(group, { allowReserved: true });
  const topic = request.topic === undefined || request.topic === '' ? undefined : request.topic;
  if (topic !== undefined) validateTopicName(topic, { allowReserved: true });
  deps.groups.require(group);
  const refs: QueueRef[] = [];
  if (topic !== undefined) {
    const { readQueueCount } = deps.topics.require(topic);
    for (let queueId = 0; queueId < readQueueCount; queueId++) refs.push({ group, topic, queueId });
  } else {
    for (const [ref] of deps.consumption.offsets.entries()) if (ref.group === group) refs.push(ref);
  }
  refs.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.queueId - b.queueId));
  const now = deps.clock.now();
  return { group, queues: refs.map((ref) => queueProgress(deps, ref, deps.consumption.offsets.get(ref), now)) };
}

function queueProgress(deps: GroupProgressDeps, ref: QueueRef, stored: QueuePosition | undefined, now: number): AdminQueueProgress {
  const { min, max } = deps.store.queueRange(ref.topic, ref.queueId);
  const start = stored === undefined ? deps.consumption.nextOffset(ref) : undefined;
  const committed = stored?.committedOffset ?? (start as number);
  const next = stored?.nextOffset ?? (start as number);
  const oldest = Math.max(committed, min);
  const lag = Math.max(0, max - oldest);
  return {
    topic: ref.topic,
    queue_id: ref.queueId,
    committed_offset: committed,
    next_offset: next,
    min_offset: min,
    max_offset: max,
    lag,
    inflight: deps.consumption.inflight.count(ref),
    lag_seconds: lag === 0 ? 0 : lagSeconds(deps.store, ref, oldest, now),
    consumed: stored !== undefined,
  };
}

/** Seconds since the message at `offset` was stored; 0 if it cannot be read (removed meanwhile). */
function lagSeconds(store: GroupProgressDeps['store'], ref: QueueRef, offset: number, now: number): number {
  const [entry] = store.entries(ref.topic, ref.queueId, offset, 1);
  if (entry === undefined) return 0;
  try {
    return Math.max(0, now - store.read(entry.physicalOffset, entry.totalBytes).storeTimestampMs) / 1_000;
  } catch {
    return 0;
  }
}
