/**
 * The ReceiveMessage / PullMessage stream frames that carry data, encoded by hand
 * (NODE-PERFORMANCE.md §5b: proto-loader's fromObject + encode cost more per message than all
 * of grpc-js). The bytes are exactly what proto-loader's responseSerialize makes of the objects
 * delivered-message.ts builds (delivered-frame.spec.ts checks it byte for byte): the same fields,
 * in field-number order, defaults written wherever the object set them (protobufjs writes every
 * field that is present, even '' or 0).
 *
 * Field numbers are those of the official client's protos (rocketmq-client-nodejs,
 * proto/apache/rocketmq/v2; never copied here):
 *
 * | message (proto file)                    | fields: number                                        |
 * |-----------------------------------------|-------------------------------------------------------|
 * | ReceiveMessageResponse (service.proto)  | status 1, message 2, delivery_timestamp 3 (oneof)     |
 * | PullMessageResponse (service.proto)     | status 1, message 2, next_offset 3 (int64; oneof)     |
 * | Message (definition.proto)              | topic 1, user_properties 2 (map), system_properties 3, body 4 |
 * | Resource (definition.proto)             | resource_namespace 1, name 2                          |
 * | map<string, string> entry               | key 1, value 2                                        |
 * | SystemProperties (definition.proto)     | tag 1, keys 2, message_id 3, body_digest 4, body_encoding 5, message_type 6, |
 * |                                         | born_timestamp 7, born_host 8, store_timestamp 9, store_host 10, |
 * |                                         | delivery_timestamp 11, receipt_handle 12, queue_id 13, queue_offset 14 (int64), |
 * |                                         | invisible_duration 15, delivery_attempt 16, message_group 17, dead_letter_queue 20 |
 * | Digest (definition.proto)               | type 1 (DigestType: MD5 = 2), checksum 2              |
 * | DeadLetterQueue (definition.proto)      | topic 1, message_id 2                                 |
 * | google.protobuf Timestamp, Duration     | seconds 1 (int64), nanos 2 (int32)                    |
 *
 * Enums by number (definition.proto): Encoding IDENTITY = 1; MessageType NORMAL 1, FIFO 2,
 * DELAY 3, TRANSACTION 4. The status frame is left to proto-loader (frame-service.ts): one a call.
 *
 * What goes into a delivered message (stored property → field) is told in delivered-message.ts.
 * The body digest is the body's MD5 in upper-case hex, computed here once per delivery.
 */
import { hash } from 'node:crypto';
import type { MessageType, TopicConfig } from '@apogee/routing';
import type { StoredMessage } from '@apogee/storage';
import type { PoppedMessage } from '../consumer/pop-consumption';
import { DLQ_ORIGIN_MESSAGE_ID_PROPERTY, DLQ_ORIGIN_TOPIC_PROPERTY } from '../consumer/dead-letter-queue';
import { DELIVER_MS_PROPERTY } from '../timer/timer-message';
import { FIELD_1_VARINT, FrameWriter, lenFieldBytes, timeBytes, utf8Bytes, varintBytes } from './proto-wire';
import { MESSAGE_GROUP_PROPERTY, RESERVED_PROPERTY_NAMES } from './reserved-properties';

// A field's key byte(s): (number << 3) | wire type (0 VARINT, 2 LEN).
const RESPONSE_MESSAGE = 0x12; // *Response.message = 2
const RECEIVE_DELIVERY_TIMESTAMP = 0x1a; // ReceiveMessageResponse.delivery_timestamp = 3
const PULL_NEXT_OFFSET = 0x18; // PullMessageResponse.next_offset = 3
const MESSAGE_TOPIC = 0x0a;
const MESSAGE_USER_PROPERTIES = 0x12;
const MESSAGE_SYSTEM_PROPERTIES = 0x1a;
const MESSAGE_BODY = 0x22;
const FIELD_1_LEN = 0x0a; // Resource.resource_namespace, map key, DeadLetterQueue.topic, SystemProperties.tag
const FIELD_2_LEN = 0x12; // Resource.name, map value, DeadLetterQueue.message_id, Digest.checksum, SystemProperties.keys
const SP_MESSAGE_ID = 0x1a;
const SP_BODY_DIGEST = 0x22;
const SP_BODY_ENCODING = 0x28;
const SP_MESSAGE_TYPE = 0x30;
const SP_BORN_TIMESTAMP = 0x3a;
const SP_BORN_HOST = 0x42;
const SP_STORE_TIMESTAMP = 0x4a;
const SP_STORE_HOST = 0x52;
const SP_DELIVERY_TIMESTAMP = 0x5a;
const SP_RECEIPT_HANDLE = 0x62;
const SP_QUEUE_ID = 0x68;
const SP_QUEUE_OFFSET = 0x70;
const SP_INVISIBLE_DURATION = 0x7a;
const SP_DELIVERY_ATTEMPT = [0x80, 0x01]; // 16, VARINT
const SP_MESSAGE_GROUP = [0x8a, 0x01]; // 17, LEN
const SP_DEAD_LETTER_QUEUE = [0xa2, 0x01]; // 20, LEN

const DIGEST_TYPE_MD5 = 2;
const ENCODING_IDENTITY = 1;
const MESSAGE_TYPE_NUMBERS: Readonly<Record<MessageType, number>> = { NORMAL: 1, FIFO: 2, DELAY: 3, TRANSACTION: 4 };
/** The body digest: MD5 as 32 upper-case hex characters (doc §8: both clients compare case-sensitively). */
const MD5_HEX_BYTES = 32;

/** What only a popped delivery (ReceiveMessage) carries. */
interface PopDelivery {
  readonly receiptHandle: string;
  readonly invisibleDurationMs: number;
  readonly deliveryAttempt: number;
}

/** `ReceiveMessageResponse{message}` for a popped message (receipt handle, invisible duration, attempt). */
export function deliveredFrame(popped: PoppedMessage, topic: TopicConfig, invisibleDurationMs: number): Buffer {
  return messageFrame(popped.message, topic, { receiptHandle: popped.receiptHandle, invisibleDurationMs, deliveryAttempt: popped.deliveryAttempt });
}

/** `PullMessageResponse{message}` for a message read by offset: no receipt handle, attempt 1. */
export function pulledFrame(message: StoredMessage, topic: TopicConfig): Buffer {
  return messageFrame(message, topic, undefined);
}

/** `ReceiveMessageResponse{delivery_timestamp}` of epoch milliseconds `ms`. */
export function deliveryTimestampFrame(ms: number): Buffer {
  const w = new FrameWriter(lenFieldBytes(timeBytes(ms)));
  w.time(RECEIVE_DELIVERY_TIMESTAMP, ms);
  return w.buf;
}

/** `PullMessageResponse{next_offset}`. */
export function nextOffsetFrame(offset: number): Buffer {
  const w = new FrameWriter(1 + varintBytes(offset));
  w.byte(PULL_NEXT_OFFSET);
  w.varint(offset);
  return w.buf;
}

/** What a message's frame holds beyond the stored message itself, read once from its properties. */
interface Delivery {
  readonly message: StoredMessage;
  readonly pop: PopDelivery | undefined;
  readonly messageType: number;
  readonly deliveryAttempt: number;
  readonly messageGroup: string | undefined;
  /** A dead letter's origin topic (its message id is `originMessageId`). */
  readonly originTopic: string | undefined;
  readonly originMessageId: string;
  /** NaN when the message has no (readable) due time. */
  readonly deliverMs: number;
}

function messageFrame(message: StoredMessage, topic: TopicConfig, pop: PopDelivery | undefined): Buffer {
  const system = message.properties;
  const messageGroup = system[MESSAGE_GROUP_PROPERTY];
  const originTopic = system[DLQ_ORIGIN_TOPIC_PROPERTY];
  const deliverMs = Number(system[DELIVER_MS_PROPERTY] ?? NaN);
  const d: Delivery = {
    message,
    pop,
    messageType: messageGroup === undefined ? MESSAGE_TYPE_NUMBERS[topic.messageType] : MESSAGE_TYPE_NUMBERS.FIFO,
    deliveryAttempt: pop === undefined ? 1 : pop.deliveryAttempt,
    messageGroup,
    originTopic,
    originMessageId: originTopic === undefined ? '' : (system[DLQ_ORIGIN_MESSAGE_ID_PROPERTY] ?? ''),
    deliverMs: Number.isSafeInteger(deliverMs) ? deliverMs : NaN,
  };
  const topicName = utf8Bytes(topic.name);
  const resourceBytes = 2 + lenFieldBytes(topicName); // resource_namespace '' + name
  let userPropertiesBytes = 0;
  const userNames: string[] = []; // producers may not set reserved names: every one stored was set by the broker
  for (const name of Object.keys(system)) {
    if (RESERVED_PROPERTY_NAMES.has(name)) continue;
    userNames.push(name);
    userPropertiesBytes += lenFieldBytes(lenFieldBytes(utf8Bytes(name)) + lenFieldBytes(utf8Bytes(system[name])));
  }
  const systemBytes = systemPropertiesBytes(d);
  const messageBytes = lenFieldBytes(resourceBytes) + userPropertiesBytes + lenFieldBytes(systemBytes) + lenFieldBytes(message.body.length);

  const w = new FrameWriter(lenFieldBytes(messageBytes));
  w.lenPrefix(RESPONSE_MESSAGE, messageBytes);
  w.lenPrefix(MESSAGE_TOPIC, resourceBytes);
  w.string(FIELD_1_LEN, '', 0);
  w.string(FIELD_2_LEN, topic.name, topicName);
  for (const name of userNames) {
    const value = system[name];
    const nameBytes = utf8Bytes(name);
    const valueBytes = utf8Bytes(value);
    w.lenPrefix(MESSAGE_USER_PROPERTIES, lenFieldBytes(nameBytes) + lenFieldBytes(valueBytes));
    w.string(FIELD_1_LEN, name, nameBytes);
    w.string(FIELD_2_LEN, value, valueBytes);
  }
  w.lenPrefix(MESSAGE_SYSTEM_PROPERTIES, systemBytes);
  writeSystemProperties(w, d);
  w.lenPrefix(MESSAGE_BODY, message.body.length);
  w.copy(message.body);
  if (w.pos !== w.buf.length) throw new Error(`delivered frame: wrote ${w.pos} of ${w.buf.length} bytes`);
  return w.buf;
}

function systemPropertiesBytes(d: Delivery): number {
  const { message, pop } = d;
  let bytes =
    (message.tag === '' ? 0 : lenFieldBytes(utf8Bytes(message.tag))) +
    lenFieldBytes(utf8Bytes(message.messageId)) +
    lenFieldBytes(2 + lenFieldBytes(MD5_HEX_BYTES)) + // Digest{type, checksum}
    2 + // body_encoding
    1 + varintBytes(d.messageType) +
    lenFieldBytes(timeBytes(message.bornTimestampMs)) +
    lenFieldBytes(utf8Bytes(message.bornHost)) +
    lenFieldBytes(timeBytes(message.storeTimestampMs)) +
    lenFieldBytes(utf8Bytes(message.storeHost)) +
    1 + varintBytes(message.queueId) +
    1 + varintBytes(message.queueOffset) +
    2 + varintBytes(d.deliveryAttempt);
  for (const key of message.keys) bytes += lenFieldBytes(utf8Bytes(key));
  if (!Number.isNaN(d.deliverMs)) bytes += lenFieldBytes(timeBytes(d.deliverMs));
  if (pop !== undefined) bytes += lenFieldBytes(utf8Bytes(pop.receiptHandle)) + lenFieldBytes(timeBytes(pop.invisibleDurationMs));
  if (d.messageGroup !== undefined) bytes += 1 + lenFieldBytes(utf8Bytes(d.messageGroup));
  if (d.originTopic !== undefined) bytes += 1 + lenFieldBytes(deadLetterQueueBytes(d.originTopic, d.originMessageId));
  return bytes;
}

function deadLetterQueueBytes(topic: string, messageId: string): number {
  return lenFieldBytes(utf8Bytes(topic)) + lenFieldBytes(utf8Bytes(messageId));
}

/** SystemProperties' fields in field-number order, as protobufjs writes them. */
function writeSystemProperties(w: FrameWriter, d: Delivery): void {
  const { message, pop } = d;
  if (message.tag !== '') w.string(FIELD_1_LEN, message.tag, utf8Bytes(message.tag));
  for (const key of message.keys) w.string(FIELD_2_LEN, key, utf8Bytes(key));
  w.string(SP_MESSAGE_ID, message.messageId, utf8Bytes(message.messageId));
  w.lenPrefix(SP_BODY_DIGEST, 2 + lenFieldBytes(MD5_HEX_BYTES));
  w.byte(FIELD_1_VARINT);
  w.varint(DIGEST_TYPE_MD5);
  w.string(FIELD_2_LEN, hash('md5', message.body, 'hex').toUpperCase(), MD5_HEX_BYTES);
  w.byte(SP_BODY_ENCODING);
  w.varint(ENCODING_IDENTITY);
  w.byte(SP_MESSAGE_TYPE);
  w.varint(d.messageType);
  w.time(SP_BORN_TIMESTAMP, message.bornTimestampMs);
  w.string(SP_BORN_HOST, message.bornHost, utf8Bytes(message.bornHost));
  w.time(SP_STORE_TIMESTAMP, message.storeTimestampMs);
  w.string(SP_STORE_HOST, message.storeHost, utf8Bytes(message.storeHost));
  if (!Number.isNaN(d.deliverMs)) w.time(SP_DELIVERY_TIMESTAMP, d.deliverMs);
  if (pop !== undefined) w.string(SP_RECEIPT_HANDLE, pop.receiptHandle, utf8Bytes(pop.receiptHandle));
  w.byte(SP_QUEUE_ID);
  w.varint(message.queueId);
  w.byte(SP_QUEUE_OFFSET);
  w.varint(message.queueOffset);
  if (pop !== undefined) w.time(SP_INVISIBLE_DURATION, pop.invisibleDurationMs);
  w.bytes(SP_DELIVERY_ATTEMPT);
  w.varint(d.deliveryAttempt);
  if (d.messageGroup !== undefined) {
    const groupBytes = utf8Bytes(d.messageGroup);
    w.bytes(SP_MESSAGE_GROUP);
    w.varint(groupBytes);
    w.utf8(d.messageGroup, groupBytes);
  }
  if (d.originTopic !== undefined) {
    w.bytes(SP_DEAD_LETTER_QUEUE);
    w.varint(deadLetterQueueBytes(d.originTopic, d.originMessageId));
    w.string(FIELD_1_LEN, d.originTopic, utf8Bytes(d.originTopic));
    w.string(FIELD_2_LEN, d.originMessageId, utf8Bytes(d.originMessageId));
  }
}
