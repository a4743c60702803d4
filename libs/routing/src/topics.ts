/**
 * A topic's configuration on one broker group, as RocketMQ's `TopicConfig`.
 *
 * Queue ids on a broker run from 0 to max(readQueueCount, writeQueueCount) - 1. Producers
 * write queues 0..writeQueueCount-1 and consumers read queues 0..readQueueCount-1, so the two
 * counts differ only while an operator grows or shrinks a topic (shrink the write count
 * first, let consumers drain the tail, then shrink the read count).
 *
 * A topic accepts exactly one message type; a producer sending another type is refused
 * (the v2 `accept_message_types` of every queue of the topic lists that one type).
 */
import { Permission, validatePermission } from './permissions';
import { RoutingError } from './routing-error';
import { validateTopicName, type ReservedNameOptions } from './names';

export const MESSAGE_TYPES = ['NORMAL', 'FIFO', 'DELAY', 'TRANSACTION'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export const MIN_QUEUE_COUNT = 1;
export const MAX_QUEUE_COUNT = 1024;
/** Queue count when none is given, as `mqadmin updateTopic`. */
export const DEFAULT_QUEUE_COUNT = 8;

export interface TopicConfig {
  readonly name: string;
  readonly readQueueCount: number;
  readonly writeQueueCount: number;
  readonly permission: Permission;
  readonly messageType: MessageType;
}

/** What an admin gives: everything but the name has a default. */
export interface TopicConfigInput {
  readonly name: string;
  readonly readQueueCount?: number;
  readonly writeQueueCount?: number;
  readonly permission?: Permission;
  readonly messageType?: MessageType;
}

/** Fills defaults (8 + 8 queues, READ_WRITE, NORMAL), validates and freezes. */
export function createTopicConfig(input: TopicConfigInput, options: ReservedNameOptions = {}): TopicConfig {
  const config: TopicConfig = Object.freeze({
    name: input.name,
    readQueueCount: input.readQueueCount ?? DEFAULT_QUEUE_COUNT,
    writeQueueCount: input.writeQueueCount ?? DEFAULT_QUEUE_COUNT,
    permission: input.permission ?? Permission.READ_WRITE,
    messageType: input.messageType ?? 'NORMAL',
  });
  validateTopicConfig(config, options);
  return config;
}

export function validateTopicConfig(config: TopicConfig, options: ReservedNameOptions = {}): void {
  validateTopicName(config.name, options);
  validateQueueCount(config.name, 'read', config.readQueueCount);
  validateQueueCount(config.name, 'write', config.writeQueueCount);
  validatePermission(config.permission);
  if (!isMessageType(config.messageType)) {
    throw new RoutingError(
      'INVALID_MESSAGE_TYPE',
      `Topic ${JSON.stringify(config.name)} has message type ${JSON.stringify(config.messageType)}; ` +
        `allowed: ${MESSAGE_TYPES.join(', ')}`,
    );
  }
}

export function isMessageType(value: unknown): value is MessageType {
  return typeof value === 'string' && (MESSAGE_TYPES as readonly string[]).includes(value);
}

export function acceptsMessageType(topic: TopicConfig, type: MessageType): boolean {
  return topic.messageType === type;
}

/** The v2 `accept_message_types` of the topic's queues. */
export function acceptedMessageTypes(topic: TopicConfig): readonly MessageType[] {
  return [topic.messageType];
}

/** Number of queue ids the topic uses on one broker: max(read, write). */
export function queueIdCount(topic: TopicConfig): number {
  return Math.max(topic.readQueueCount, topic.writeQueueCount);
}

function validateQueueCount(topic: string, kind: 'read' | 'write', count: number): void {
  if (!Number.isInteger(count) || count < MIN_QUEUE_COUNT || count > MAX_QUEUE_COUNT) {
    throw new RoutingError(
      'INVALID_QUEUE_COUNT',
      `Topic ${JSON.stringify(topic)} has ${kind} queue count ${String(count)}; ` +
        `allowed: an integer from ${MIN_QUEUE_COUNT} to ${MAX_QUEUE_COUNT}`,
    );
  }
}
