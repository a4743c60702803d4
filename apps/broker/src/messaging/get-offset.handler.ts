/**
 * GetOffset (doc §3.13; pull consumers of other SDKs): the offset the group committed in a queue
 * — the committedOffset of its ConsumerOffsets position, which pull consumers set with
 * UpdateOffset and POP consumption advances on acks (one offset per group and queue, as in
 * RocketMQ's consumer offset table).
 *
 * A group that never committed in the queue (nor popped from it) gets OFFSET_NOT_FOUND, as
 * RocketMQ's broker answers QUERY_NOT_FOUND then: the offset is not invented, the client picks its
 * start with QueryOffset (BEGINNING / END / TIMESTAMP). The group must exist (auto-created when
 * autoCreateGroups is on, else CONSUMER_GROUP_NOT_FOUND); topic and queue as for PullMessage.
 *
 * A broadcast group (consumer/broadcast-state.ts) keeps one offset per client, as RocketMQ's
 * broadcasting consumers each keep their own: the call reads the position of the calling client
 * (`<group>#<x-mq-client-id>`), the one its UpdateOffset and ReceiveMessage calls move.
 */
import { ApogeeError, okV2Status } from '@apogee/protocol';
import { stateGroupOf } from '../consumer/broadcast-state';
import type { ConsumerOffsets } from '../consumer/consumer-offsets';
import type { GroupRegistry } from '../metadata/group-registry';
import type { TopicRegistry } from '../metadata/topic-registry';
import { resolvePullQueue } from './pull-queue';
import type { V2CallContext } from './v2-unary';
import type { WireGetOffsetRequest, WireGetOffsetResponse } from './v2-wire';

export interface GetOffsetDeps {
  readonly topics: Pick<TopicRegistry, 'get'>;
  readonly groups: Pick<GroupRegistry, 'ensureGroup'>;
  readonly offsets: Pick<ConsumerOffsets, 'committed'>;
}

export function getOffsetHandler(deps: GetOffsetDeps) {
  return async (request: WireGetOffsetRequest, context: V2CallContext): Promise<WireGetOffsetResponse> => {
    const group = await deps.groups.ensureGroup(request.group?.name ?? '');
    const { topic, queueId } = resolvePullQueue(deps.topics, request.message_queue);
    const committed = deps.offsets.committed({ group: stateGroupOf(group, context.clientId), topic: topic.name, queueId });
    if (committed === undefined) {
      const whose = group.broadcast ? `Client ${JSON.stringify(context.clientId)} of broadcast group` : 'Group';
      throw new ApogeeError(
        'OFFSET_NOT_FOUND',
        `${whose} ${JSON.stringify(group.name)} has no committed offset in queue ${queueId} of topic ${JSON.stringify(topic.name)}; ` +
          'pick a start with QueryOffset and commit with UpdateOffset',
      );
    }
    return { status: okV2Status(), offset: String(committed) };
  };
}
