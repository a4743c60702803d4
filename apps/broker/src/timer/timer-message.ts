/**
 * How a delayed message is stored while it waits, and what is appended when it fires.
 *
 * A DELAY message due in the future is appended to the commit log under the system topic
 * TIMER_TOPIC, queue 0, with its real topic, queue and due time in RocketMQ's property names
 * (REAL_TOPIC, REAL_QID, TIMER_DELIVER_MS). When due, the TimerStore appends a copy to the real
 * topic and queue keeping the message id, keys, tag, body, born host and time and user
 * properties, without REAL_TOPIC / REAL_QID, and with TIMER_ENQUEUE_MS = the store time of the
 * timer record (when the producer's send was accepted). A DELAY message already due when sent is
 * stored straight in its topic, with TIMER_DELIVER_MS too.
 */
import type { MessageInput, MessageProperties, StoredMessage } from '@apogee/storage';

export const TIMER_TOPIC = 'rmq_sys_wheel_timer';
export const TIMER_QUEUE_ID = 0;
export const REAL_TOPIC_PROPERTY = 'REAL_TOPIC';
export const REAL_QUEUE_ID_PROPERTY = 'REAL_QID';
export const DELIVER_MS_PROPERTY = 'TIMER_DELIVER_MS';
export const ENQUEUE_MS_PROPERTY = 'TIMER_ENQUEUE_MS';

/** A DELAY message bound for `message.topic` / `message.queueId`, due at `dueMs`, as stored now. */
export function delayedInputOf(message: MessageInput, dueMs: number, nowMs: number): MessageInput {
  const properties: MessageProperties = { ...message.properties, [DELIVER_MS_PROPERTY]: String(dueMs) };
  if (dueMs <= nowMs) return { ...message, properties };
  return {
    ...message,
    topic: TIMER_TOPIC,
    queueId: TIMER_QUEUE_ID,
    properties: { ...properties, [REAL_TOPIC_PROPERTY]: message.topic, [REAL_QUEUE_ID_PROPERTY]: String(message.queueId) },
  };
}

/** What a timer record says about its message, or undefined when it is not a timer record. */
export interface TimerRecordInfo {
  readonly realTopic: string;
  readonly realQueueId: number;
  readonly dueMs: number;
}

export function timerInfoOf(stored: StoredMessage): TimerRecordInfo | undefined {
  if (stored.topic !== TIMER_TOPIC) return undefined;
  const realTopic = stored.properties[REAL_TOPIC_PROPERTY];
  const realQueueId = Number(stored.properties[REAL_QUEUE_ID_PROPERTY]);
  const dueMs = Number(stored.properties[DELIVER_MS_PROPERTY]);
  if (realTopic === undefined || realTopic === '' || !Number.isInteger(realQueueId) || !Number.isSafeInteger(dueMs)) return undefined;
  return { realTopic, realQueueId, dueMs };
}

/** The message to append to its real topic when the timer record `stored` fires. */
export function firedInputOf(stored: StoredMessage, info: TimerRecordInfo): MessageInput {
  const {
    [REAL_TOPIC_PROPERTY]: _topic,
    [REAL_QUEUE_ID_PROPERTY]: _queue,
    ...kept
  } = stored.properties;
  return {
    topic: info.realTopic,
    queueId: info.realQueueId,
    body: stored.body,
    messageId: stored.messageId,
    bornTimestampMs: stored.bornTimestampMs,
    bornHost: stored.bornHost,
    keys: stored.keys,
    tag: stored.tag,
    flags: stored.flags,
    properties: { ...kept, [ENQUEUE_MS_PROPERTY]: String(stored.storeTimestampMs) },
  };
}
