/**
 * Messages parked in a system topic until they may be seen (delayed messages in the timer topic,
 * half messages of open transactions) carry where they really go in RocketMQ's property names
 * REAL_TOPIC and REAL_QID. These read that destination back and build the message as its real
 * topic will hold it: there, without the REAL_* properties.
 */
import { storedAsInput, type MessageInput, type MessageProperties, type StoredMessage } from '@apogee/storage';

export const REAL_TOPIC_PROPERTY = 'REAL_TOPIC';
export const REAL_QUEUE_ID_PROPERTY = 'REAL_QID';

export interface RealDestination {
  readonly realTopic: string;
  readonly realQueueId: number;
}

/** `message` parked in `systemTopic` / `systemQueueId`, remembering its own topic and queue. */
export function parkedInputOf(message: MessageInput, systemTopic: string, systemQueueId: number, more: MessageProperties = {}): MessageInput {
  return {
    ...message,
    topic: systemTopic,
    queueId: systemQueueId,
    properties: { ...message.properties, ...more, [REAL_TOPIC_PROPERTY]: message.topic, [REAL_QUEUE_ID_PROPERTY]: String(message.queueId) },
  };
}

/** Where a message parked in `systemTopic` really goes; undefined if `stored` is not one. */
export function realDestinationOf(stored: StoredMessage, systemTopic: string): RealDestination | undefined {
  if (stored.topic !== systemTopic) return undefined;
  const realTopic = stored.properties[REAL_TOPIC_PROPERTY];
  const realQueueId = Number(stored.properties[REAL_QUEUE_ID_PROPERTY]);
  if (realTopic === undefined || realTopic === '' || !Number.isInteger(realQueueId) || realQueueId < 0) return undefined;
  return { realTopic, realQueueId };
}

/** The parked message's properties without the REAL_* ones. */
export function realPropertiesOf(stored: StoredMessage): MessageProperties {
  const { [REAL_TOPIC_PROPERTY]: _topic, [REAL_QUEUE_ID_PROPERTY]: _queue, ...kept } = stored.properties;
  return kept;
}

/** The input that stores the parked message in its real topic and queue, with `more` properties. */
export function releasedInputOf(stored: StoredMessage, to: RealDestination, more: MessageProperties = {}): MessageInput {
  return storedAsInput(stored, { topic: to.realTopic, queueId: to.realQueueId, properties: { ...realPropertiesOf(stored), ...more } });
}
