/**
 * Validation of names and message fields, following RocketMQ 5 (`TopicValidator`,
 * `Validators`, the proxy's `GrpcValidator`). Each function returns nothing and throws a
 * RoutingError that says what is wrong and what is allowed.
 *
 * | what          | charset                | length                                  | reserved                      |
 * | ------------- | ---------------------- | --------------------------------------- | ----------------------------- |
 * | topic         | `^[%\|a-zA-Z0-9_-]+$`  | ≤ 127; retry and DLQ topics ≤ 255       | system, `%RETRY%`, `%DLQ%`    |
 * | consumer group| same                   | ≤ 120 (room for `%RETRY%<group>_<topic>`)| `CID_RMQ_SYS_…`              |
 * | cluster/broker| `^[a-zA-Z0-9_-]+$`     | ≤ 100                                   | —                             |
 * | tag           | no `\|`, no control characters, not whitespace only; '' means "no tag"      |
 * | message key   | not blank, no control characters                                            |
 * | message group | not blank, no control characters, UTF-8 shorter than 64 bytes (configurable) |
 *
 * Cluster and broker names are not validated by RocketMQ, but it builds system topic names
 * from them (`rmq_sys_SYNC_BROKER_MEMBER_<broker>`, `rmq_sys_REVIVE_LOG_<cluster>`), so they
 * must be topic-legal and short enough: 100 + 27 prefix characters = 127.
 */
import { RoutingError, type RoutingErrorCode, quote } from './routing-error';
import { isReservedTopic, isDeadLetterTopic, isRetryTopic, isSystemGroup } from './system-topics';

export const TOPIC_MAX_LENGTH = 127;
export const GROUP_TOPIC_MAX_LENGTH = 255;
export const GROUP_MAX_LENGTH = 120;
export const BROKER_NAME_MAX_LENGTH = 100;
/** RocketMQ's default `maxMessageGroupSize`: a group's UTF-8 form must be shorter than this. */
export const MESSAGE_GROUP_LIMIT_BYTES = 64;

const NAME_CHARSET = /^[%|a-zA-Z0-9_-]$/;
const NAME_CHARSET_TEXT = "letters, digits, '%', '|', '_' and '-' (^[%|a-zA-Z0-9_-]+$)";
const BROKER_CHARSET = /^[a-zA-Z0-9_-]$/;
const BROKER_CHARSET_TEXT = "letters, digits, '_' and '-' (^[a-zA-Z0-9_-]+$)";

export interface ReservedNameOptions {
  /** Accept reserved names (system, retry and DLQ topics; system groups). Brokers need this. */
  readonly allowReserved?: boolean;
}

export function validateTopicName(name: string, options: ReservedNameOptions = {}): void {
  const code = 'INVALID_TOPIC_NAME';
  checkCharset(code, 'Topic name', name, NAME_CHARSET, NAME_CHARSET_TEXT);
  const groupTopic = isRetryTopic(name) || isDeadLetterTopic(name);
  const max = groupTopic ? GROUP_TOPIC_MAX_LENGTH : TOPIC_MAX_LENGTH;
  checkLength(code, groupTopic ? 'Retry or dead-letter topic name' : 'Topic name', name, max);
  if (!options.allowReserved && isReservedTopic(name)) {
    throw new RoutingError(
      'RESERVED_TOPIC',
      `Topic name ${quote(name)} is reserved: system topics (rmq_sys_… and the RocketMQ built-ins) ` +
        'and %RETRY%/%DLQ% topics are managed by the broker; choose another name',
    );
  }
}

/** A topic consumers may read: any valid name that is not reserved, and the broker-managed dead-letter topics. */
export function validateConsumableTopicName(name: string): void {
  validateTopicName(name, { allowReserved: isDeadLetterTopic(name) });
}

export function validateGroupName(name: string, options: ReservedNameOptions = {}): void {
  const code = 'INVALID_GROUP_NAME';
  checkCharset(code, 'Consumer group name', name, NAME_CHARSET, NAME_CHARSET_TEXT);
  checkLength(code, 'Consumer group name', name, GROUP_MAX_LENGTH);
  if (!options.allowReserved && isSystemGroup(name)) {
    throw new RoutingError(
      'RESERVED_GROUP',
      `Consumer group name ${quote(name)} is reserved: names starting with CID_RMQ_SYS_ belong to the system`,
    );
  }
}

export function validateClusterName(name: string): void {
  checkCharset('INVALID_CLUSTER_NAME', 'Cluster name', name, BROKER_CHARSET, BROKER_CHARSET_TEXT);
  checkLength('INVALID_CLUSTER_NAME', 'Cluster name', name, BROKER_NAME_MAX_LENGTH);
}

export function validateBrokerName(name: string): void {
  checkCharset('INVALID_BROKER_NAME', 'Broker name', name, BROKER_CHARSET, BROKER_CHARSET_TEXT);
  checkLength('INVALID_BROKER_NAME', 'Broker name', name, BROKER_NAME_MAX_LENGTH);
}

/** A message tag. The empty string means "no tag" and is accepted, as RocketMQ does. */
export function validateTag(tag: string): void {
  if (tag === '') return;
  const fail = (what: string): never => {
    throw new RoutingError('INVALID_TAG', `Tag ${quote(tag)} ${what}`);
  };
  if (isBlank(tag)) fail('is only whitespace; a tag needs visible characters (or none at all)');
  if (tag.includes('|')) fail("contains '|', which separates tags in filter expressions (a||b); remove it");
  const at = controlCharacterIndex(tag);
  if (at >= 0) fail(`contains a control character at index ${at}; tags must be printable text`);
}

/** Message keys (for lookup by key): each one non-blank and free of control characters. */
export function validateMessageKeys(keys: readonly string[]): void {
  keys.forEach((key, i) => {
    if (isBlank(key)) {
      const message = `Message key #${i} ${quote(key)} is blank; keys need visible characters`;
      throw new RoutingError('INVALID_MESSAGE_KEY', message);
    }
    const at = controlCharacterIndex(key);
    if (at >= 0) {
      throw new RoutingError(
        'INVALID_MESSAGE_KEY',
        `Message key #${i} ${quote(key)} contains a control character at index ${at}; keys must be printable text`,
      );
    }
  });
}

/** A FIFO message group: non-blank, printable, UTF-8 form shorter than `limitBytes`. */
export function validateMessageGroup(group: string, limitBytes = MESSAGE_GROUP_LIMIT_BYTES): void {
  const fail = (what: string): never => {
    throw new RoutingError('INVALID_MESSAGE_GROUP', `Message group ${quote(group)} ${what}`);
  };
  if (isBlank(group)) fail('is blank; a FIFO message group needs visible characters');
  const at = controlCharacterIndex(group);
  if (at >= 0) fail(`contains a control character at index ${at}; message groups must be printable text`);
  const bytes = utf8Length(group);
  if (bytes >= limitBytes) fail(`is ${bytes} bytes in UTF-8; it must be shorter than ${limitBytes} bytes`);
}

function checkCharset(
  code: RoutingErrorCode,
  what: string,
  name: string,
  charset: RegExp,
  allowed: string,
): void {
  if (name.length === 0) {
    throw new RoutingError(code, `${what} is empty; allowed: ${allowed}`);
  }
  for (let i = 0; i < name.length; i++) {
    if (!charset.test(name[i])) {
      throw new RoutingError(
        code,
        `${what} ${quote(name)} contains the illegal character ${JSON.stringify(name[i])} at index ${i}; allowed: ${allowed}`,
      );
    }
  }
}

function checkLength(code: RoutingErrorCode, what: string, name: string, max: number): void {
  if (name.length > max) {
    throw new RoutingError(code, `${what} ${quote(name)} is ${name.length} characters long; at most ${max} are allowed`);
  }
}

function isBlank(value: string): boolean {
  return value.trim().length === 0;
}

/** Index of the first ISO control character (U+0000–U+001F, U+007F–U+009F, as Java's), or -1. */
function controlCharacterIndex(value: string): number {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c <= 0x1f || (c >= 0x7f && c <= 0x9f)) return i;
  }
  return -1;
}

function utf8Length(value: string): number {
  let bytes = 0;
  for (const ch of value) {
    const cp = ch.codePointAt(0) ?? 0;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return bytes;
}
