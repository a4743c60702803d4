/**
 * A message queue as a route lists it: (topic, broker name, queue id) plus what a client may
 * do with it. Queues order like RocketMQ's `MessageQueue.compareTo`: by topic, then broker
 * name, then queue id, comparing strings by UTF-16 code unit as Java's `String.compareTo`.
 */
import type { Permission } from './permissions';
import type { MessageType } from './topics';

/** What identifies a queue. Selection and assignment only need this much. */
export interface QueueRef {
  readonly topic: string;
  readonly brokerName: string;
  readonly queueId: number;
}

export interface MessageQueue extends QueueRef {
  readonly permission: Permission;
  readonly acceptMessageTypes: readonly MessageType[];
}

export function compareQueues(a: QueueRef, b: QueueRef): number {
  return compareStrings(a.topic, b.topic) || compareStrings(a.brokerName, b.brokerName) || a.queueId - b.queueId;
}

/** `topic@brokerName@queueId`, the key the Node client uses to diff assignments. */
export function queueKey(queue: QueueRef): string {
  return `${queue.topic}@${queue.brokerName}@${queue.queueId}`;
}

/** Java `String.compareTo` order (UTF-16 code units), independent of locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
