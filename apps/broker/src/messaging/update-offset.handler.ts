/**
 * UpdateOffset (doc §3.13; pull consumers of other SDKs): commits the group's offset in a queue —
 * the next QueueOffset it will consume — into its ConsumerOffsets position (committed = next =
 * offset, see PopConsumption.commitOffset), answering OK only once the MetaTable write is durable.
 * GetOffset reads it back, also after a restart.
 *
 * The offset must lie in [min, max] of the queue (max: everything consumed), else ILLEGAL_OFFSET
 * naming the valid range; a group with POP messages in flight in the queue is refused with
 * BAD_REQUEST (ack them first). Group, topic and queue checks as for PullMessage.
 *
 * A broadcast group (consumer/broadcast-state.ts) keeps one offset per client: the call commits
 * the calling client's (`<group>#<x-mq-client-id>`), as GetOffset and its POP calls see it.
 */
import { okV2Status } from '@apogee/protocol';
import type { MessageStore } from '@apogee/storage';
import { stateGroupOf } from '../consumer/broadcast-state';
import type { PopConsumption } from '../consumer/pop-consumption';
import type { GroupRegistry } from '../metadata/group-registry';
import type { TopicRegistry } from '../metadata/topic-registry';
import { checkOffsetInRange, offsetOf, resolvePullQueue } from './pull-queue';
import type { V2CallContext } from './v2-unary';
import type { WireStatusResponse, WireUpdateOffsetRequest } from './v2-wire';

export interface UpdateOffsetDeps {
  readonly topics: Pick<TopicRegistry, 'get'>;
  readonly groups: Pick<GroupRegistry, 'ensureGroup'>;
  readonly store: Pick<MessageStore, 'queueRange'>;
  readonly consumption: Pick<PopConsumption, 'commitOffset'>;
}

export function updateOffsetHandler(deps: UpdateOffsetDeps) {
  return async (request: WireUpdateOffsetRequest, context: V2CallContext): Promise<WireStatusResponse> => {
    const group = await deps.groups.ensureGroup(request.group?.name ?? '');
    const queue = resolvePullQueue(deps.topics, request.message_queue);
    const offset = offsetOf(request.offset);
    checkOffsetInRange(offset, deps.store.queueRange(queue.topic.name, queue.queueId), queue);
    await deps.consumption.commitOffset({ group: stateGroupOf(group, context.clientId), topic: queue.topic.name, queueId: queue.queueId }, offset);
    return { status: okV2Status() };
  };
}
