/**
 * Reserved topic and group names, as RocketMQ 5 defines them (`TopicValidator`, `MixAll`).
 *
 * - System topics: a fixed set of broker-internal topics plus anything starting with
 *   `rmq_sys_`. Clients may not access them (the proxy answers ILLEGAL_TOPIC).
 * - Send-forbidden topics: system topics that hold broker-internal state (half messages,
 *   timers, ...); nobody may send to them, not even an admin tool.
 * - Retry and dead-letter topics: one pair per consumer group, `%RETRY%<group>` and
 *   `%DLQ%<group>`, created by the broker on demand. They are not system topics (consumers
 *   read DLQs), but a user may not create a topic with these prefixes.
 * - System groups: consumer groups starting with `CID_RMQ_SYS_`.
 */

export const RETRY_TOPIC_PREFIX = '%RETRY%';
export const DLQ_TOPIC_PREFIX = '%DLQ%';
export const SYSTEM_TOPIC_PREFIX = 'rmq_sys_';
export const SYSTEM_GROUP_PREFIX = 'CID_RMQ_SYS_';

/** The topic a broker clones when it auto-creates a topic (RocketMQ's `TBW102`). */
export const AUTO_CREATE_TOPIC_KEY_TOPIC = 'TBW102';
export const SCHEDULE_TOPIC = 'SCHEDULE_TOPIC_XXXX';
export const TRANSACTION_HALF_TOPIC = 'RMQ_SYS_TRANS_HALF_TOPIC';
export const TRANSACTION_OP_HALF_TOPIC = 'RMQ_SYS_TRANS_OP_HALF_TOPIC';
export const TRACE_TOPIC = 'RMQ_SYS_TRACE_TOPIC';

/** Topics a client may never send to: their content is broker-internal state. */
export const SEND_FORBIDDEN_TOPICS: ReadonlySet<string> = new Set([
  SCHEDULE_TOPIC,
  TRANSACTION_HALF_TOPIC,
  TRANSACTION_OP_HALF_TOPIC,
  'TRANS_CHECK_MAX_TIME_TOPIC',
  'SELF_TEST_TOPIC',
  'OFFSET_MOVED_EVENT',
  'RMQ_SYS_TOPIC_CONFIG_SYNC',
  'RMQ_SYS_CONSUMER_OFFSET_SYNC',
  'RMQ_SYS_DELAY_OFFSET_SYNC',
  'RMQ_SYS_SUBSCRIPTION_GROUP_SYNC',
  'RMQ_SYS_MESSAGE_MODE_SYNC',
  'RMQ_SYS_TIMER_METRICS_SYNC',
]);

/** Named system topics; any name starting with SYSTEM_TOPIC_PREFIX is a system topic too. */
export const SYSTEM_TOPICS: ReadonlySet<string> = new Set([
  ...SEND_FORBIDDEN_TOPICS,
  AUTO_CREATE_TOPIC_KEY_TOPIC,
  TRACE_TOPIC,
  'BenchmarkTest',
  'CHECKPOINT_TOPIC',
]);

export function isSystemTopic(topic: string): boolean {
  return SYSTEM_TOPICS.has(topic) || topic.startsWith(SYSTEM_TOPIC_PREFIX);
}

export function isSendForbiddenTopic(topic: string): boolean {
  return SEND_FORBIDDEN_TOPICS.has(topic);
}

export function isSystemGroup(group: string): boolean {
  return group.startsWith(SYSTEM_GROUP_PREFIX);
}

/** `%RETRY%<group>`: where the broker re-appends messages a consumer of `group` failed. */
export function retryTopicOf(group: string): string {
  return RETRY_TOPIC_PREFIX + group;
}

/** `%DLQ%<group>`: where messages go after the group's last delivery attempt. */
export function deadLetterTopicOf(group: string): string {
  return DLQ_TOPIC_PREFIX + group;
}

export function isRetryTopic(topic: string): boolean {
  return topic.startsWith(RETRY_TOPIC_PREFIX);
}

export function isDeadLetterTopic(topic: string): boolean {
  return topic.startsWith(DLQ_TOPIC_PREFIX);
}

/** The consumer group a retry or dead-letter topic belongs to; undefined for other topics. */
export function groupOfGroupTopic(topic: string): string | undefined {
  if (isRetryTopic(topic)) return topic.slice(RETRY_TOPIC_PREFIX.length) || undefined;
  if (isDeadLetterTopic(topic)) return topic.slice(DLQ_TOPIC_PREFIX.length) || undefined;
  return undefined;
}

/** System topics, retry and dead-letter topics: names a user may not create a topic with. */
export function isReservedTopic(topic: string): boolean {
  return isSystemTopic(topic) || isRetryTopic(topic) || isDeadLetterTopic(topic);
}
