import { ApogeeError } from '@apogee/protocol';
import { describePermission, isWritable, type MessageType, type TopicConfig } from '@apogee/routing';

/** How a producer makes a message of each type, for error messages. */
const HOW_TO_SEND: Readonly<Record<MessageType, string>> = {
  NORMAL: 'no message group, delivery timestamp or transaction',
  FIFO: 'a message group',
  DELAY: 'a delivery timestamp',
  TRANSACTION: 'sent inside a transaction',
};

/** Throws MESSAGE_TYPE_MISMATCH unless `topic` accepts messages of `messageType`. */
export function assertMessageType(topic: TopicConfig, messageType: MessageType): void {
  if (topic.messageType === messageType) return;
  throw new ApogeeError(
    'MESSAGE_TYPE_MISMATCH',
    `Topic ${JSON.stringify(topic.name)} accepts ${topic.messageType} messages, but this message is ${messageType}; ` +
      `send ${topic.messageType} messages (${HOW_TO_SEND[topic.messageType]}) to it, ` +
      `or send to a topic of type ${messageType}`,
  );
}

/** Throws TOPIC_NOT_WRITABLE unless the topic's permission allows sending. */
export function assertWritable(topic: TopicConfig): void {
  if (isWritable(topic.permission)) return;
  throw new ApogeeError(
    'TOPIC_NOT_WRITABLE',
    `Topic ${JSON.stringify(topic.name)} does not accept sends: its permission is ${describePermission(topic.permission)}; ` +
      'an operator must give it WRITE permission (UpdateTopic)',
  );
}
