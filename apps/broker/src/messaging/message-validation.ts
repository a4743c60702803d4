/**
 * Checks one v2 Message of a SendMessage request (doc §3.5, RocketMQ's GrpcValidator) and turns
 * it into what the store needs. Every refusal is an ApogeeError (or the routing lib's
 * RoutingError) whose code maps to the v2 Code RocketMQ uses, with a message saying what to fix.
 * Topic existence and the topic's message type are checked by the caller (TopicRegistry).
 */
import { ApogeeError } from '@apogee/protocol';
import {
  validateMessageGroup,
  validateMessageKeys,
  validateTag,
  validateTopicName,
  type MessageType,
} from '@apogee/routing';
import type { MessageProperties } from '@apogee/storage';
import {
  MAX_USER_PROPERTIES,
  MAX_USER_PROPERTIES_BYTES,
  MESSAGE_GROUP_PROPERTY,
  RESERVED_PROPERTY_NAMES,
} from './reserved-properties';
import { millisOf, type WireMessage } from './v2-wire';

/** A message that passed every check that does not need the topic's config. */
export interface CheckedMessage {
  readonly topic: string;
  readonly messageType: MessageType;
  readonly messageId: string;
  readonly body: Buffer;
  readonly tag: string;
  readonly keys: readonly string[];
  readonly messageGroup: string | undefined;
  readonly bornTimestampMs: number;
  readonly bornHost: string;
  /** User properties plus what the broker keeps of the system properties (the message group). */
  readonly properties: MessageProperties;
}

const WIRE_TYPES: Readonly<Record<string, MessageType>> = {
  NORMAL: 'NORMAL',
  FIFO: 'FIFO',
  DELAY: 'DELAY',
  TRANSACTION: 'TRANSACTION',
};

export function checkMessage(message: WireMessage, maxBodyBytes: number, nowMs: number): CheckedMessage {
  const topic = message.topic?.name ?? '';
  validateTopicName(topic);
  const system = message.system_properties ?? {};
  const messageId = system.message_id ?? '';
  if (messageId.trim() === '') {
    throw new ApogeeError('MISSING_MESSAGE_ID', 'The message has no system_properties.message_id; the client must generate one');
  }
  const body = message.body ?? Buffer.alloc(0);
  if (body.length === 0) throw new ApogeeError('EMPTY_MESSAGE_BODY', `Message ${messageId} has an empty body; send at least one byte`);
  if (body.length > maxBodyBytes) {
    throw new ApogeeError(
      'MESSAGE_TOO_LARGE',
      `Message ${messageId} has a ${body.length}-byte body; this broker accepts at most ${maxBodyBytes} bytes (maxBodyBytes)`,
    );
  }
  const tag = system.tag ?? '';
  validateTag(tag);
  const keys = system.keys ?? [];
  validateMessageKeys(keys);
  const messageGroup = system.message_group ?? undefined;
  if (messageGroup !== undefined) validateMessageGroup(messageGroup);
  const messageType = messageTypeOf(message, messageId);
  const userProperties = checkUserProperties(message.user_properties ?? {}, messageId);
  const properties = messageGroup === undefined ? userProperties : { ...userProperties, [MESSAGE_GROUP_PROPERTY]: messageGroup };
  return {
    topic,
    messageType,
    messageId,
    body,
    tag,
    keys,
    messageGroup,
    bornTimestampMs: millisOf(system.born_timestamp) ?? nowMs,
    bornHost: system.born_host ?? '',
    properties,
  };
}

/** The declared type, or the one the fields imply (group ⇒ FIFO, delivery time ⇒ DELAY); checked against them. */
function messageTypeOf(message: WireMessage, messageId: string): MessageType {
  const system = message.system_properties ?? {};
  const declared = system.message_type;
  const implied: MessageType = system.message_group != null ? 'FIFO' : system.delivery_timestamp != null ? 'DELAY' : 'NORMAL';
  if (declared === undefined || declared === 'MESSAGE_TYPE_UNSPECIFIED') return implied;
  const type = WIRE_TYPES[declared];
  if (type === undefined) {
    throw new ApogeeError(
      'UNSUPPORTED_MESSAGE_TYPE',
      `Message ${messageId} is of type ${declared}, which this broker does not support; send NORMAL, FIFO, DELAY or TRANSACTION messages`,
    );
  }
  if (implied !== 'NORMAL' && implied !== type) {
    throw new ApogeeError(
      'MESSAGE_TYPE_MISMATCH',
      `Message ${messageId} is declared ${type} but carries ${implied === 'FIFO' ? 'a message group' : 'a delivery timestamp'} ` +
        `(a ${implied} message); send it as ${implied} or drop that field`,
    );
  }
  return type;
}

function checkUserProperties(properties: Record<string, string>, messageId: string): MessageProperties {
  const names = Object.keys(properties);
  if (names.length > MAX_USER_PROPERTIES) {
    throw new ApogeeError(
      'PROPERTIES_TOO_LARGE',
      `Message ${messageId} has ${names.length} user properties; at most ${MAX_USER_PROPERTIES} are allowed`,
    );
  }
  let bytes = 0;
  for (const name of names) {
    const value = properties[name];
    if (name.trim() === '' || hasControlCharacter(name)) {
      throw new ApogeeError(
        'INVALID_PROPERTY_KEY',
        `Message ${messageId} has user property name ${JSON.stringify(name)}; names must be non-blank printable text`,
      );
    }
    if (RESERVED_PROPERTY_NAMES.has(name)) {
      throw new ApogeeError(
        'INVALID_PROPERTY_KEY',
        `Message ${messageId} sets user property ${JSON.stringify(name)}, a name reserved for system properties; rename it`,
      );
    }
    if (hasControlCharacter(value)) {
      throw new ApogeeError(
        'INVALID_PROPERTY_KEY',
        `Message ${messageId} has a control character in the value of user property ${JSON.stringify(name)}; values must be printable text`,
      );
    }
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  }
  if (bytes > MAX_USER_PROPERTIES_BYTES) {
    throw new ApogeeError(
      'PROPERTIES_TOO_LARGE',
      `Message ${messageId} has ${bytes} bytes of user properties; at most ${MAX_USER_PROPERTIES_BYTES} are allowed`,
    );
  }
  return properties;
}

/** C0 controls and DEL; tab, CR and LF too (RocketMQ refuses them in keys and values alike). */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
