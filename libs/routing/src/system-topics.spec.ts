import {
  deadLetterTopicOf,
  groupOfGroupTopic,
  isDeadLetterTopic,
  isReservedTopic,
  isRetryTopic,
  isSendForbiddenTopic,
  isSystemGroup,
  isSystemTopic,
  retryTopicOf,
  SEND_FORBIDDEN_TOPICS,
  SYSTEM_TOPICS,
} from './system-topics';

describe('system topics', () => {
  it('builds retry and dead-letter topics from a group', () => {
    expect(retryTopicOf('orders')).toBe('%RETRY%orders');
    expect(deadLetterTopicOf('orders')).toBe('%DLQ%orders');
    expect(isRetryTopic('%RETRY%orders')).toBe(true);
    expect(isDeadLetterTopic('%DLQ%orders')).toBe(true);
    expect(isRetryTopic('%DLQ%orders')).toBe(false);
    expect(isDeadLetterTopic('orders')).toBe(false);
  });

  it('recovers the group of a retry or dead-letter topic', () => {
    expect(groupOfGroupTopic(retryTopicOf('g-1'))).toBe('g-1');
    expect(groupOfGroupTopic(deadLetterTopicOf('g-1'))).toBe('g-1');
    expect(groupOfGroupTopic('orders')).toBeUndefined();
    expect(groupOfGroupTopic('%RETRY%')).toBeUndefined();
  });

  it('knows the RocketMQ system topics and the rmq_sys_ prefix', () => {
    for (const topic of ['TBW102', 'SCHEDULE_TOPIC_XXXX', 'RMQ_SYS_TRANS_HALF_TOPIC', 'RMQ_SYS_TRACE_TOPIC', 'BenchmarkTest']) {
      expect(isSystemTopic(topic)).toBe(true);
    }
    expect(isSystemTopic('rmq_sys_REVIVE_LOG_DefaultCluster')).toBe(true);
    expect(isSystemTopic('orders')).toBe(false);
    expect(isSystemTopic('%RETRY%orders')).toBe(false);
  });

  it('forbids sending to internal-state topics only', () => {
    expect(isSendForbiddenTopic('RMQ_SYS_TRANS_HALF_TOPIC')).toBe(true);
    expect(isSendForbiddenTopic('SCHEDULE_TOPIC_XXXX')).toBe(true);
    expect(isSendForbiddenTopic('TBW102')).toBe(false);
    expect(isSendForbiddenTopic('%RETRY%orders')).toBe(false);
    for (const topic of SEND_FORBIDDEN_TOPICS) expect(SYSTEM_TOPICS.has(topic)).toBe(true);
  });

  it('reserves system, retry and dead-letter names, and CID_RMQ_SYS_ groups', () => {
    expect(isReservedTopic('%RETRY%g')).toBe(true);
    expect(isReservedTopic('%DLQ%g')).toBe(true);
    expect(isReservedTopic('rmq_sys_x')).toBe(true);
    expect(isReservedTopic('RETRY_orders')).toBe(false);
    expect(isSystemGroup('CID_RMQ_SYS_TRANS')).toBe(true);
    expect(isSystemGroup('CID_orders')).toBe(false);
  });
});
