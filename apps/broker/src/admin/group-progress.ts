/**
 * BrokerAdmin.GroupProgress (consumer lag, RocketMQ's `consumerProgress`): for each queue of this
 * broker that a group has a position in (ConsumerOffsets), or for every queue of one topic, the
 * committed and next offsets, the queue's stored range, the lag in messages and in seconds, and
 * the messages in flight. Read-only: it touches no state, and per lagging queue reads one
 * consume-queue entry and one message (for the store time of the oldest unacked message).
 *
 * A broadcast group (consumer/broadcast-state.ts) has positions per client: one row per client
 * and queue, with its client id; with a topic, every queue of it for each client that has a
 * position on the topic, a queue the client never consumed showing where it would start there.
 */
import type { AdminGroupProgressRequest, AdminQueueProgress, BrokerAdminHandlers } from '@apogee/protocol';
import type { Clock } from '@apogee/runtime';
import type { MessageStore } from '@apogee/storage';
import { validateGroupName, validateTopicName } from '@apogee/routing';
import { broadcastClientKeys, broadcastStartOffset } from '../consumer/broadcast-positions';
import { clientOfStateKey } from '../consumer/broadcast-state';
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
  /** The group's consumers connected now (messaging ClientRegistry); absent: none listed. */
  readonly consumers?: (group: string) => ReadonlyArray<{ clientId: string; clientType: string; lastSeenMs: number }>;
}

export function groupProgressHandlers(deps: GroupProgressDeps): ProgressHandlers {
  return { GroupProgress: async (request) => groupProgress(deps, request) };
}

export function groupProgress(deps: GroupProgressDeps, request: AdminGroupProgressRequest) {
  const group = request.group ?? '';
  validateGroupName(group, { allowReserved: true });
  const topic = request.topic === undefined || request.topic === '' ? undefined : request.topic;
  if (topic !== undefined) validateTopicName(topic, { allowReserved: true });
  const { broadcast } = deps.groups.require(group);
  const refs = broadcast === true ? broadcastRefs(deps, group, topic) : groupRefs(deps, group, topic);
  refs.sort(byGroupTopicQueue);
  const start = (ref: QueueRef): number =>
    broadcast === true ? broadcastStartOffset({ offsets: deps.consumption.offsets, store: deps.store }, ref) : deps.consumption.nextOffset(ref);
  const now = deps.clock.now();
  const consumers = (deps.consumers?.(group) ?? []).map((c) => ({ client_id: c.clientId, client_type: c.clientType, last_seen_ms: c.lastSeenMs }));
  return { group, queues: refs.map((ref) => queueProgress(deps, ref, start, now)), consumers };
}

/** The queues the state key has a position in, or, with a topic, every queue of it. */
function groupRefs(deps: GroupProgressDeps, stateGroup: string, topic: string | undefined): QueueRef[] {
  if (topic === undefined) return [...deps.consumption.offsets.entries()].flatMap(([ref]) => (ref.group === stateGroup ? [ref] : []));
  const { readQueueCount } = deps.topics.require(topic);
  return Array.from({ length: readQueueCount }, (_, queueId) => ({ group: stateGroup, topic, queueId }));
}

/** groupRefs of each client of a broadcast group (with a topic: each client with a position on it). */
function broadcastRefs(deps: GroupProgressDeps, group: string, topic: string | undefined): QueueRef[] {
  if (topic !== undefined) deps.topics.require(topic);
  const clients = new Set(broadcastClientKeys(deps.consumption.offsets, group, topic));
  if (topic !== undefined) return [...clients].flatMap((key) => groupRefs(deps, key, topic));
  return [...deps.consumption.offsets.entries()].flatMap(([ref]) => (clients.has(ref.group) ? [ref] : []));
}

function byGroupTopicQueue(a: QueueRef, b: QueueRef): number {
  if (a.group !== b.group) return a.group < b.group ? -1 : 1;
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.queueId - b.queueId;
}

function queueProgress(deps: GroupProgressDeps, ref: QueueRef, startOf: (ref: QueueRef) => number, now: number): AdminQueueProgress {
  const stored: QueuePosition | undefined = deps.consumption.offsets.get(ref);
  const { min, max } = deps.store.queueRange(ref.topic, ref.queueId);
  const start = stored === undefined ? startOf(ref) : undefined;
  const clientId = clientOfStateKey(ref.group);
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
    ...(clientId === undefined ? {} : { client_id: clientId }),
  };
}

/** Seconds since the message at `offset` was stored; 0 if it cannot be read (removed meanwhile). */
export function lagSeconds(store: Pick<MessageStore, 'entries' | 'read'>, ref: QueueRef, offset: number, now: number): number {
  const [entry] = store.entries(ref.topic, ref.queueId, offset, 1);
  if (entry === undefined) return 0;
  try {
    return Math.max(0, now - store.read(entry.physicalOffset, entry.totalBytes).storeTimestampMs) / 1_000;
  } catch {
    return 0;
  }
}
