/**
 * User property names a producer may not set: RocketMQ's system property names
 * (MessageConst.STRING_HASH_SET, which RocketMQ's GrpcValidator refuses as
 * ILLEGAL_MESSAGE_PROPERTY_KEY), so that stored messages stay readable by RocketMQ tooling and
 * user properties never collide with what the broker stores next to them.
 */
export const RESERVED_PROPERTY_NAMES: ReadonlySet<string> = new Set([
  'TRACE_ON', 'MSG_REGION', 'KEYS', 'TAGS', 'WAIT', 'DELAY', 'RETRY_TOPIC', 'REAL_TOPIC', 'REAL_QID',
  'TRAN_MSG', 'PGROUP', 'MIN_OFFSET', 'MAX_OFFSET', 'BUYER_ID', 'ORIGIN_MESSAGE_ID', 'TRANSFER_FLAG',
  'CORRECTION_FLAG', 'MQ2_FLAG', 'RECONSUME_TIME', 'UNIQ_KEY', 'MAX_RECONSUME_TIMES', 'CONSUME_START_TIME',
  'POP_CK', 'POP_CK_OFFSET', '1ST_POP_TIME', 'TRAN_PREPARED_QUEUE_OFFSET', 'DUP_INFO', 'EXTEND_UNIQ_INFO',
  'INSTANCE_ID', 'CORRELATION_ID', 'REPLY_TO_CLIENT', 'TTL', 'ARRIVE_TIME', 'PUSH_REPLY_TIME', 'CLUSTER',
  'MSG_TYPE', '__STARTDELIVERTIME', 'TIMER_DELIVER_MS', 'TIMER_DELAY_SEC', 'TIMER_DELAY_MS', 'TIMER_OUT_MS',
  'TIMER_ENQUEUE_MS', 'TIMER_DEQUEUE_MS', 'TIMER_ROLL_TIMES', 'TIMER_DEL_UNIQKEY', '__SHARDINGKEY',
  'INNER_BASE', 'INNER_NUM', 'TRANSACTION_CHECK_TIMES', 'CHECK_IMMUNITY_TIME_IN_SECONDS', 'BORNHOST',
  'DLQ_ORIGIN_TOPIC', 'DLQ_ORIGIN_MESSAGE_ID', 'INNER_MULTI_DISPATCH', 'INNER_MULTI_QUEUE_OFFSET',
  'TRACE_CONTEXT', 'PRIORITY', 'LITE_TOPIC',
]);

/** Stored property holding a FIFO message's message_group (RocketMQ's name for it). */
export const MESSAGE_GROUP_PROPERTY = '__SHARDINGKEY';

export const MAX_USER_PROPERTIES = 128;
/** Sum of the UTF-8 lengths of all user property names and values. */
export const MAX_USER_PROPERTIES_BYTES = 16 * 1024;
