/**
 * Dead letters (rocketmq-v2-protocol.md §3.12, §5.4): a message that used up its group's delivery
 * attempts, or that a push consumer forwards (ForwardMessageToDeadLetterQueue), is copied to the
 * group's `%DLQ%<group>` topic (one queue, created on first use) and then settled like an ack by
 * PopConsumption. The copy keeps the message id, keys, tag, body, born time and host and the user
 * properties, and records where it came from in DLQ_ORIGIN_TOPIC / DLQ_ORIGIN_MESSAGE_ID (what
 * consumers of the DLQ see as `dead_letter_queue`) and the attempts made in RECONSUME_TIME. A
 * FIFO message's group property is dropped: the DLQ is a NORMAL topic. Clients of a broadcast group
 * (state key `<group>#<clientId>`, broadcast-state.ts) share the group's DLQ.
 */
import { storedAsInput, type MessageStore, type StoredMessage } from '@apogee/storage';
import { MESSAGE_GROUP_PROPERTY } from '../messaging/reserved-properties';
import type { TopicRegistry } from '../metadata/topic-registry';
import { groupOfStateKey } from './broadcast-state';

export const DLQ_ORIGIN_TOPIC_PROPERTY = 'DLQ_ORIGIN_TOPIC';
export const DLQ_ORIGIN_MESSAGE_ID_PROPERTY = 'DLQ_ORIGIN_MESSAGE_ID';
export const RECONSUME_TIME_PROPERTY = 'RECONSUME_TIME';

export interface DeadLetterSink {
  /** Stores a copy of `message` in the group's dead-letter topic; resolves once durable. */
  deadLetter(group: string, message: StoredMessage, deliveryAttempts: number): Promise<void>;
}

export class DeadLetterQueue implements DeadLetterSink {
  constructor(
    private readonly store: Pick<MessageStore, 'append'>,
    private readonly topics: Pick<TopicRegistry, 'ensureDeadLetterTopic'>,
  ) {}

  async deadLetter(group: string, message: StoredMessage, deliveryAttempts: number): Promise<void> {
    const topic = await this.topics.ensureDeadLetterTopic(groupOfStateKey(group));
    const { [MESSAGE_GROUP_PROPERTY]: _fifoGroup, ...properties } = message.properties;
    await this.store.append(
      storedAsInput(message, {
        topic: topic.name,
        queueId: 0,
        properties: {
          ...properties,
          [DLQ_ORIGIN_TOPIC_PROPERTY]: message.topic,
          [DLQ_ORIGIN_MESSAGE_ID_PROPERTY]: message.messageId,
          [RECONSUME_TIME_PROPERTY]: String(deliveryAttempts),
        },
      }),
    );
  }
}
