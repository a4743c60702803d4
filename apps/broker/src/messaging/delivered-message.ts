/**
 * The v2 Message a consumer receives (doc §2.2, §8.5): original topic, MD5 upper-case-hex body
 * digest, IDENTITY encoding, delivery_attempt ≥ 1, the stable message id, and every stored
 * system field for tools. The stored message-group property becomes message_group and a dead
 * letter's origin (dead-letter-queue.ts) becomes dead_letter_queue, a delayed message's due time
 * delivery_timestamp; no reserved (broker-set) property is passed on as a user property.
 * A popped message (ReceiveMessage) also carries its receipt handle and invisible duration; a
 * pulled one (PullMessage) has neither — pull consumers track offsets, not handles —
 * and is always delivery attempt 1.
 *
 * This is the proto-loader object form, used where a Message rides in an object-serialized
 * answer (the Telemetry RecoverOrphanedTransactionCommand). ReceiveMessage and PullMessage
 * stream the same Message encoded by hand (delivered-frame.ts); delivered-frame.spec.ts holds
 * the two byte for byte equal, so a change here needs the same change there.
 */
import { createHash } from 'node:crypto';
import type { TopicConfig } from '@apogee/routing';
import type { StoredMessage } from '@apogee/storage';
import { DLQ_ORIGIN_MESSAGE_ID_PROPERTY, DLQ_ORIGIN_TOPIC_PROPERTY } from '../consumer/dead-letter-queue';
import { DELIVER_MS_PROPERTY } from '../timer/timer-message';
import { MESSAGE_GROUP_PROPERTY, RESERVED_PROPERTY_NAMES } from './reserved-properties';
import { timestampOf, type WireDeliveredMessage } from './v2-wire';

/** A message as PullMessage delivers it: no receipt handle, no invisible duration, attempt 1. */
export function pulledMessage(message: StoredMessage, topic: TopicConfig): WireDeliveredMessage {
  const system = message.properties;
  const messageGroup = system[MESSAGE_GROUP_PROPERTY];
  const originTopic = system[DLQ_ORIGIN_TOPIC_PROPERTY];
  const deliverMs = Number(system[DELIVER_MS_PROPERTY] ?? NaN);
  // producers may not set reserved names (message-validation.ts): every one stored was set by the broker
  const userProperties: Record<string, string> = {};
  for (const [name, value] of Object.entries(system)) if (!RESERVED_PROPERTY_NAMES.has(name)) userProperties[name] = value;
  return {
    topic: { name: topic.name, resource_namespace: '' },
    user_properties: userProperties,
    system_properties: {
      ...(message.tag === '' ? {} : { tag: message.tag }),
      keys: [...message.keys],
      message_id: message.messageId,
      body_digest: { type: 'MD5', checksum: createHash('md5').update(message.body).digest('hex').toUpperCase() },
      body_encoding: 'IDENTITY',
      message_type: messageGroup === undefined ? topic.messageType : 'FIFO',
      born_timestamp: timestampOf(message.bornTimestampMs),
      born_host: message.bornHost,
      store_timestamp: timestampOf(message.storeTimestampMs),
      store_host: message.storeHost,
      queue_id: message.queueId,
      queue_offset: String(message.queueOffset),
      delivery_attempt: 1,
      ...(messageGroup === undefined ? {} : { message_group: messageGroup }),
      ...(Number.isSafeInteger(deliverMs) ? { delivery_timestamp: timestampOf(deliverMs) } : {}),
      ...(originTopic === undefined ? {} : { dead_letter_queue: { topic: originTopic, message_id: system[DLQ_ORIGIN_MESSAGE_ID_PROPERTY] ?? '' } }),
    },
    body: message.body,
  };
}
