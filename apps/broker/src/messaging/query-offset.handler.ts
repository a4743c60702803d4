/**
 * QueryOffset (doc §3.13; used by pull consumers of other SDKs): a queue's offset by policy —
 * BEGINNING: the first QueueOffset still stored; END: the next one to be written; TIMESTAMP: the
 * first one stored at or after `timestamp` (END when none). The queue id is taken literally and
 * must exist on the topic (else BAD_REQUEST); the topic must exist here (else TOPIC_NOT_FOUND).
 * It reads no group state, so it answers every client of a broadcast group alike.
 */
import { ApogeeError, okV2Status } from '@apogee/protocol';
import { queueIdCount, validateConsumableTopicName } from '@apogee/routing';
import type { MessageStore } from '@apogee/storage';
import type { TopicRegistry } from '../metadata/topic-registry';
import { millisOf, type WireDuration, type WireMessageQueue } from './v2-wire';

export interface WireQueryOffsetRequest {
  message_queue?: Partial<WireMessageQueue>;
  query_offset_policy?: string;
  timestamp?: WireDuration;
}

export interface WireQueryOffsetResponse {
  status: ReturnType<typeof okV2Status>;
  offset: number;
}

export interface QueryOffsetDeps {
  readonly topics: Pick<TopicRegistry, 'get'>;
  readonly store: Pick<MessageStore, 'queueRange' | 'offsetAtTime'>;
}

export function queryOffsetHandler(deps: QueryOffsetDeps) {
  return (request: WireQueryOffsetRequest): WireQueryOffsetResponse => {
    const topic = request.message_queue?.topic?.name ?? '';
    validateConsumableTopicName(topic);
    const config = deps.topics.get(topic);
    if (config === undefined) throw new ApogeeError('TOPIC_NOT_FOUND', `Topic ${JSON.stringify(topic)} does not exist on this broker`);
    const queueId = request.message_queue?.id ?? 0;
    const queues = queueIdCount(config);
    if (!Number.isInteger(queueId) || queueId < 0 || queueId >= queues) {
      throw new ApogeeError('BAD_REQUEST', `Topic ${JSON.stringify(topic)} has queues 0..${queues - 1}; queue ${queueId} does not exist`);
    }
    const policy = request.query_offset_policy ?? 'BEGINNING';
    const range = deps.store.queueRange(topic, queueId);
    switch (policy) {
      case 'BEGINNING':
        return { status: okV2Status(), offset: range.min };
      case 'END':
        return { status: okV2Status(), offset: range.max };
      case 'TIMESTAMP': {
        const timestampMs = millisOf(request.timestamp);
        if (timestampMs === undefined) throw new ApogeeError('BAD_REQUEST', 'QueryOffset with policy TIMESTAMP needs a timestamp');
        return { status: okV2Status(), offset: deps.store.offsetAtTime(topic, queueId, timestampMs) };
      }
      default:
        throw new ApogeeError('BAD_REQUEST', `Unknown query_offset_policy ${JSON.stringify(policy)}; use BEGINNING, END or TIMESTAMP`);
    }
  };
}
