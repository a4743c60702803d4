/** One consumer group's view of one queue: the unit of POP state. */
export interface QueueRef {
  readonly group: string;
  readonly topic: string;
  readonly queueId: number;
}

/**
 * The MetaTable key of a queue (and, with an offset, of one message in it): a JSON array, so no
 * character of a group or topic name can make two keys collide, whatever the naming rules allow.
 */
export function queueKey(ref: QueueRef): string {
  let key = queueKeys.get(ref);
  if (key === undefined) queueKeys.set(ref, (key = JSON.stringify([ref.group, ref.topic, ref.queueId])));
  return key;
}

/**
 * Keys already made, by ref object: a pop or a batch of acks looks its queue up many times with
 * one ref (QueueRefs are never mutated), and JSON.stringify per lookup showed in drain profiles.
 */
const queueKeys = new WeakMap<QueueRef, string>();

export function messageKey(ref: QueueRef, queueOffset: number): string {
  return JSON.stringify([ref.group, ref.topic, ref.queueId, queueOffset]);
}

/** Parses a key made by queueKey or messageKey; undefined if it is neither. */
export function parseKey(key: string): { ref: QueueRef; queueOffset?: number } | undefined {
  let parts: unknown;
  try {
    parts = JSON.parse(key);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parts) || (parts.length !== 3 && parts.length !== 4)) return undefined;
  const [group, topic, queueId, queueOffset] = parts as unknown[];
  if (typeof group !== 'string' || typeof topic !== 'string' || !Number.isInteger(queueId)) return undefined;
  if (parts.length === 4 && !Number.isInteger(queueOffset)) return undefined;
  return { ref: { group, topic, queueId: queueId as number }, queueOffset: queueOffset as number | undefined };
}
