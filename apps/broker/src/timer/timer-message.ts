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
import { parkedInputOf, realDestinationOf, releasedInputOf, type RealDestination } from '../real-destination';

export const TIMER_TOPIC = 'rmq_sys_wheel_timer';
export const TIMER_QUEUE_ID = 0;
export const DELIVER_MS_PROPERTY = 'TIMER_DELIVER_MS';
export const ENQUEUE_MS_PROPERTY = 'TIMER_ENQUEUE_MS';

/** A DELAY message bound for `message.topic` / `message.queueId`, due at `dueMs`, as stored now. */
export function delayedInputOf(message: MessageInput, dueMs: number, nowMs: number): MessageInput {
  const properties: MessageProperties = { ...message.properties, [DELIVER_MS_PROPERTY]: String(dueMs) };
  if (dueMs <= nowMs) return { ...message, properties };
  return parkedInputOf({ ...message, properties }, TIMER_TOPIC, TIMER_QUEUE_ID);
}

/** What a timer record says about its message, or undefined when it is not a timer record. */
export interface TimerRecordInfo extends RealDestination {
  readonly dueMs: number;
}

export function timerInfoOf(stored: StoredMessage): TimerRecordInfo | undefined {
  const destination = realDestinationOf(stored, TIMER_TOPIC);
  const dueMs = Number(stored.properties[DELIVER_MS_PROPERTY]);
  if (destination === undefined || !Number.isSafeInteger(dueMs)) return undefined;
  return { ...destination, dueMs };
}

/** The message to append to its real topic when the timer record `stored` fires. */
export function firedInputOf(stored: StoredMessage, info: TimerRecordInfo): MessageInput {
  return releasedInputOf(stored, info, { [ENQUEUE_MS_PROPERTY]: String(stored.storeTimestampMs) });
}
