/**
 * BrokerAdmin.ResetOffset (backtracking): moves a consumer group's position in every queue of a
 * topic on this broker to a point in time, or to the start or the end of each queue, as RocketMQ's
 * `resetOffsetByTime`. The target per queue is the first message stored at or after the time
 * (MessageStore.offsetAtTime), or the queue's min or max offset; PopConsumption.resetPosition then
 * moves the position and drops the group's in-flight messages there, one queue at a time.
 *
 * A broadcast group (consumer/broadcast-state.ts) has a position per client: the reset moves every
 * client that has a position on the topic (one row per client and queue, with its client id), and
 * sets the group's start for new clients (consumer/broadcast-positions.ts; rows without a client
 * id), so that a consumer that first appears after the reset (a restarted process is a new
 * client) also starts at the target; LATEST removes that start instead: new clients start at the
 * end again when they appear. The start is written before the clients are listed, which leaves
 * only a client whose very first receive overlaps the reset at risk of starting where the group's
 * start was before (that client is not serialized with the reset; a repeated reset moves it).
 */
import {
  ApogeeError,
  type AdminQueueOffsetReset,
  type AdminResetOffsetRequest,
  type BrokerAdminHandlers,
} from '@apogee/protocol';
import type { Clock } from '@apogee/runtime';
import type { MessageStore } from '@apogee/storage';
import { validateGroupName, validateTopicName } from '@apogee/routing';
import { broadcastClientKeys } from '../consumer/broadcast-positions';
import { clientOfStateKey } from '../consumer/broadcast-state';
import type { QueuePosition } from '../consumer/consumer-offsets';
import type { PopConsumption } from '../consumer/pop-consumption';
import type { GroupRegistry } from '../metadata/group-registry';
import type { TopicRegistry } from '../metadata/topic-registry';

type OffsetHandlers = Pick<BrokerAdminHandlers, 'ResetOffset'>;

export interface OffsetAdminDeps {
  readonly topics: TopicRegistry;
  readonly groups: GroupRegistry;
  readonly store: Pick<MessageStore, 'offsetAtTime' | 'queueRange'>;
  readonly consumption: Pick<PopConsumption, 'resetPosition' | 'offsets'>;
  readonly clock: Clock;
}

/** Where a reset goes, as checked from the request. */
export type ResetTarget = { readonly kind: 'EARLIEST' | 'LATEST' } | { readonly kind: 'TIME'; readonly timestampMs: number };

export function offsetAdminHandlers(deps: OffsetAdminDeps): OffsetHandlers {
  return { ResetOffset: (request) => resetOffset(deps, request) };
}

async function resetOffset(deps: OffsetAdminDeps, request: AdminResetOffsetRequest) {
  const group = request.group ?? '';
  const topic = request.topic ?? '';
  validateGroupName(group, { allowReserved: true });
  validateTopicName(topic, { allowReserved: true });
  const asked = targetOf(request);
  const { broadcast } = deps.groups.require(group);
  const { readQueueCount } = deps.topics.require(topic);
  const futureTimestamp = asked.kind === 'TIME' && asked.timestampMs > deps.clock.now();
  const target: ResetTarget = futureTimestamp ? { kind: 'LATEST' } : asked;
  const offsets = Array.from({ length: readQueueCount }, (_, queueId) => targetOffset(deps.store, topic, queueId, target));
  if (broadcast !== true) {
    return { group, topic, queues: await resetQueues(deps, group, topic, offsets), future_timestamp: futureTimestamp };
  }
  const start = await setNewClientStart(deps, group, topic, offsets, target.kind === 'LATEST');
  const clients: AdminQueueOffsetReset[] = [];
  for (const key of broadcastClientKeys(deps.consumption.offsets, group, topic)) {
    const client_id = clientOfStateKey(key);
    for (const row of await resetQueues(deps, key, topic, offsets)) clients.push({ ...row, client_id });
  }
  return { group, topic, queues: [...clients, ...start], future_timestamp: futureTimestamp, broadcast: true };
}

/** Moves one state key's position in each queue of the topic to its target offset (by queue id). */
async function resetQueues(deps: OffsetAdminDeps, stateGroup: string, topic: string, offsets: readonly number[]): Promise<AdminQueueOffsetReset[]> {
  const rows: AdminQueueOffsetReset[] = [];
  for (const [queueId, offset] of offsets.entries()) {
    const { previous, droppedInflight } = await deps.consumption.resetPosition({ group: stateGroup, topic, queueId }, offset);
    rows.push(resetRow(queueId, previous, offset, droppedInflight));
  }
  return rows;
}

/**
 * A broadcast group's start for new clients on the topic: the target offsets, or, after a reset
 * to LATEST, none (new clients start at the end when they appear). One row per queue.
 */
async function setNewClientStart(deps: OffsetAdminDeps, group: string, topic: string, offsets: readonly number[], latest: boolean) {
  if (!latest) return resetQueues(deps, group, topic, offsets);
  const rows: AdminQueueOffsetReset[] = [];
  for (const [queueId, offset] of offsets.entries()) {
    const ref = { group, topic, queueId };
    const previous = deps.consumption.offsets.get(ref);
    await deps.consumption.offsets.delete(ref);
    rows.push(resetRow(queueId, previous, offset, 0));
  }
  return rows;
}

function resetRow(queueId: number, previous: QueuePosition | undefined, offset: number, droppedInflight: number): AdminQueueOffsetReset {
  return {
    queue_id: queueId,
    ...(previous === undefined ? {} : { old_committed_offset: previous.committedOffset }),
    new_offset: offset,
    dropped_inflight: droppedInflight,
  };
}

/** The request's target: exactly one of timestamp_ms (epoch ms, not negative) and edge. */
export function targetOf(request: AdminResetOffsetRequest): ResetTarget {
  const edge = request.edge === 'RESET_EDGE_UNSPECIFIED' ? undefined : request.edge;
  if (request.timestamp_ms !== undefined && edge !== undefined) {
    throw new ApogeeError('INVALID_ARGUMENT', 'Give either timestamp_ms or edge, not both');
  }
  if (edge === 'EARLIEST' || edge === 'LATEST') return { kind: edge };
  if (edge !== undefined) {
    throw new ApogeeError('INVALID_ARGUMENT', `Reset edge ${JSON.stringify(edge)} is unknown; allowed: EARLIEST, LATEST`);
  }
  if (request.timestamp_ms === undefined) {
    throw new ApogeeError('INVALID_ARGUMENT', 'Say where to reset to: timestamp_ms, or edge EARLIEST or LATEST');
  }
  const timestampMs = Number(request.timestamp_ms);
  if (!Number.isSafeInteger(timestampMs) || timestampMs < 0) {
    throw new ApogeeError('INVALID_ARGUMENT', `Timestamp ${String(request.timestamp_ms)} ms is invalid; allowed: epoch milliseconds, 0 or more`);
  }
  return { kind: 'TIME', timestampMs };
}

/** The queue offset a target means in one queue, within the queue's stored range. */
function targetOffset(store: OffsetAdminDeps['store'], topic: string, queueId: number, target: ResetTarget): number {
  const { min, max } = store.queueRange(topic, queueId);
  if (target.kind === 'TIME') return Math.min(max, Math.max(min, store.offsetAtTime(topic, queueId, target.timestampMs)));
  return target.kind === 'EARLIEST' ? min : max;
}
