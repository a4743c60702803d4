/**
 * How a TRANSACTION message is stored while its transaction is open, and what is appended when
 * it is committed (doc §4.6, §5.6; format: docs/formats/transaction.md).
 *
 * A transactional send is appended to the commit log under the system topic HALF_TOPIC
 * (RocketMQ's RMQ_SYS_TRANS_HALF_TOPIC), queue 0, with its real topic and queue in RocketMQ's
 * property names (REAL_TOPIC, REAL_QID), TRAN_MSG = "true" and PGROUP = the producer group
 * (RocketMQ uses the topic name for gRPC producers). No consumer reads that topic, so the message
 * stays invisible. A commit appends a copy to the real topic and queue keeping the message id,
 * keys, tag, body, born host and time and user properties, without REAL_TOPIC / REAL_QID.
 */
import { TRANSACTION_HALF_TOPIC } from '@apogee/routing';
import type { MessageInput, StoredMessage } from '@apogee/storage';
import { parkedInputOf, realDestinationOf, realPropertiesOf, releasedInputOf, type RealDestination } from '../real-destination';

export { REAL_TOPIC_PROPERTY } from '../real-destination';
export const HALF_TOPIC = TRANSACTION_HALF_TOPIC;
export const HALF_QUEUE_ID = 0;
export const TRANSACTION_PROPERTY = 'TRAN_MSG';
export const PRODUCER_GROUP_PROPERTY = 'PGROUP';

/** The half message to append for a TRANSACTION message bound for `message.topic` / `message.queueId`. */
export function halfInputOf(message: MessageInput): MessageInput {
  return parkedInputOf(message, HALF_TOPIC, HALF_QUEUE_ID, { [TRANSACTION_PROPERTY]: 'true', [PRODUCER_GROUP_PROPERTY]: message.topic });
}

/** Where a half message belongs, or undefined when `stored` is not a half message. */
export type HalfMessageInfo = RealDestination;

export function halfInfoOf(stored: StoredMessage): HalfMessageInfo | undefined {
  return realDestinationOf(stored, HALF_TOPIC);
}

/** The half message as its real topic will hold it: real topic and queue, no REAL_* properties. */
export function committedViewOf(stored: StoredMessage, info: HalfMessageInfo): StoredMessage {
  return { ...stored, topic: info.realTopic, queueId: info.realQueueId, properties: realPropertiesOf(stored) };
}

/** The message to append to its real topic when the transaction of half message `stored` commits. */
export function committedInputOf(stored: StoredMessage, info: HalfMessageInfo): MessageInput {
  return releasedInputOf(stored, info);
}
