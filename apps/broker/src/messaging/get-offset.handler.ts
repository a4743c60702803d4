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
 */
import { ApogeeError, okV2Status } from '@apogee/protocol';
import type { ConsumerOffsets } from '../consumer/consumer-offsets';
import type { GroupRegistry } from '../metadata/group-registry';
import type { TopicRegistry } from '../metadata/topic-registry';
import { resolvePullQueue } from './pull-queue';
import type { WireGetOffsetRequest, WireGetOffsetResponse } from './v2-wire';

export interface GetOffsetDeps {
  readonly topics: Pick<TopicRegistry, 'get'>;
  readonly groups: Pick<GroupRegistry, 'ensureGroup'>;
  readonly offsets: Pick<ConsumerOffsets, 'committed'>;
}

export function getOffsetHandler(deps: GetOffsetDeps) {
  return async (request: WireGetOffsetRequest): Promise<WireGetOffsetResponse> => {
    const group = await deps.groups.ensureGroup(request.group?.name ?? '');
    const { topic, queueId } = resolvePullQueue(deps.topics, request.message_queue);
    const committed = deps.offsets.committed({ group: group.name, topic: topic.name, queueId });
    if (committed === undefined) {
      throw new ApogeeError(
        'OFFSET_NOT_FOUND',
        `Group ${JSON.stringify(group.name)} has no committed offset in queue ${queueId} of topic ${JSON.stringify(topic.name)}; ` +
          'pick a start with QueryOffset and commit with UpdateOffset',
      );
    }
    return { status: okV2Status(), offset: String(committed) };
  };
}
