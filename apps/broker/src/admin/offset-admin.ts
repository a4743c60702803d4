/**
 * BrokerAdmin.ResetOffset (backtracking): moves a consumer group's position in every queue of a
 * topic on this broker to a point in time, or to the start or the end of each queue, as RocketMQ's
 * `resetOffsetByTime`. The target per queue is the first message stored at or after the time
 * (MessageStore.offsetAtTime), or the queue's min or max offset; PopConsumption.resetPosition then
 * moves the position and drops the group's in-flight messages there, one queue at a time.
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
import type { PopConsumption } from '../consumer/pop-consumption';
import type { GroupRegistry } from '../metadata/group-registry';
import type { TopicRegistry } from '../metadata/topic-registry';

type OffsetHandlers = Pick<BrokerAdminHandlers, 'ResetOffset'>;

export interface OffsetAdminDeps {
  readonly topics: TopicRegistry;
  readonly groups: GroupRegistry;
  readonly store: Pick<MessageStore, 'offsetAtTime' | 'queueRange'>;
  readonly consumption: Pick<PopConsumption, 'resetPosition'>;
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
  deps.groups.require(group);
  const { readQueueCount } = deps.topics.require(topic);
  const futureTimestamp = asked.kind === 'TIME' && asked.timestampMs > deps.clock.now();
  const target: ResetTarget = futureTimestamp ? { kind: 'LATEST' } : asked;
  const queues: AdminQueueOffsetReset[] = [];
  for (let queueId = 0; queueId < readQueueCount; queueId++) {
    const offset = targetOffset(deps.store, topic, queueId, target);
    const { previous, droppedInflight } = await deps.consumption.resetPosition({ group, topic, queueId }, offset);
    queues.push({
      queue_id: queueId,
      ...(previous === undefined ? {} : { old_committed_offset: previous.committedOffset }),
      new_offset: offset,
      dropped_inflight: droppedInflight,
    });
  }
  return { group, topic, queues, future_timestamp: futureTimestamp };
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
