/**
 * BrokerAdmin.TopicStats (RocketMQ's `topicStatus`): for each queue of a topic on this broker,
 * the stored offset range and the store time of its newest message. Read-only: the ranges come
 * from memory, and each non-empty queue costs one message read (its newest).
 */
import type { BrokerAdminHandlers, BrokerAdminMethods } from '@apogee/protocol';
import type { MessageStore } from '@apogee/storage';
import { validateTopicName } from '@apogee/routing';
import type { TopicRegistry } from '../metadata/topic-registry';

type StatsHandlers = Pick<BrokerAdminHandlers, 'TopicStats'>;
type TopicStatsResponse = BrokerAdminMethods['TopicStats'][1];

export interface TopicStatsDeps {
  readonly topics: Pick<TopicRegistry, 'require'>;
  readonly store: Pick<MessageStore, 'queueRange' | 'queueIds' | 'readQueue'>;
}

export function topicStatsHandlers(deps: TopicStatsDeps): StatsHandlers {
  return { TopicStats: async (request) => topicStats(deps, request.topic ?? '') };
}

/** Queues 0..max(read, write)-1, plus any other queue that holds messages (after a shrink), by id. */
export function topicStats(deps: TopicStatsDeps, topic: string): TopicStatsResponse {
  validateTopicName(topic, { allowReserved: true });
  const { readQueueCount, writeQueueCount } = deps.topics.require(topic);
  const ids = new Set<number>(Array.from({ length: Math.max(readQueueCount, writeQueueCount) }, (_, i) => i));
  for (const id of deps.store.queueIds(topic)) ids.add(id);
  const queues = [...ids]
    .sort((a, b) => a - b)
    .map((queueId) => {
      const { min, max } = deps.store.queueRange(topic, queueId);
      return { queue_id: queueId, min_offset: min, max_offset: max, last_store_timestamp_ms: max > min ? newestStoreTime(deps.store, topic, queueId, max) : 0 };
    });
  return { topic, queues };
}

/** The newest message's store time; 0 if it cannot be read (removed or corrupt meanwhile). */
function newestStoreTime(store: TopicStatsDeps['store'], topic: string, queueId: number, max: number): number {
  try {
    return store.readQueue(topic, queueId, max - 1, 1)[0]?.storeTimestampMs ?? 0;
  } catch {
    return 0;
  }
}
