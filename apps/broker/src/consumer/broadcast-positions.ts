/**
 * The positions of a broadcast group's clients (broadcast-state.ts) as the admin calls and a
 * client's first receive see them: which clients the group has, and where a client starts in a
 * queue it never consumed.
 *
 * A broadcast group never pops under its own name, so its own ConsumerOffsets position in a queue
 * (key: the plain group) is free to hold the group's *start for new clients*: ResetOffset writes
 * it (to a time or EARLIEST) or removes it (LATEST). A client's first receive on a queue starts
 * at that start, or at the queue's end when there is none.
 */
import type { MessageStore } from '@apogee/storage';
import { BROADCAST_KEY_SEPARATOR, groupOfStateKey } from './broadcast-state';
import type { ConsumerOffsets } from './consumer-offsets';
import type { QueueRef } from './queue-ref';

export interface BroadcastStartSources {
  readonly offsets: Pick<ConsumerOffsets, 'get'>;
  readonly store: Pick<MessageStore, 'queueRange'>;
}

/** The group's own position in the queue of a client's state ref: its start for new clients, if any. */
export function groupStartRef(stateRef: QueueRef): QueueRef {
  return { group: groupOfStateKey(stateRef.group), topic: stateRef.topic, queueId: stateRef.queueId };
}

/** Where a client with no position in the queue of `stateRef` starts: the group's start, within the queue's range, or the queue's end. */
export function broadcastStartOffset(sources: BroadcastStartSources, stateRef: QueueRef): number {
  const start = sources.offsets.get(groupStartRef(stateRef))?.nextOffset;
  const { min, max } = sources.store.queueRange(stateRef.topic, stateRef.queueId);
  return start === undefined ? max : Math.min(max, Math.max(min, start));
}

/** The state keys of the group's clients that have a position in a queue of `topic` (of any topic without one), sorted. */
export function broadcastClientKeys(offsets: Pick<ConsumerOffsets, 'entries'>, group: string, topic?: string): string[] {
  const prefix = `${group}${BROADCAST_KEY_SEPARATOR}`;
  const keys = new Set<string>();
  for (const [ref] of offsets.entries()) {
    if (ref.group.startsWith(prefix) && (topic === undefined || ref.topic === topic)) keys.add(ref.group);
  }
  return [...keys].sort();
}
