/**
 * Messages whose every byte follows from a sequence number, so a test (or the parent of a killed
 * child) can tell an intact message from a torn, stale or corrupt one without remembering bodies.
 * Shared by the crash specs and append-child.ts; imports nothing from jest.
 */
import { createHash } from 'node:crypto';
import type { MessageInput, StoreConfig, StoredMessage } from '../../src/index';

export const CRASH_TOPIC = 'crash';

/** The store append-child.ts writes (the parent reopens it with the same): ~290 KB segments so a
 * few thousand small messages roll several times, 256-entry queue files, a checkpoint every
 * 100 ms so recovery starts from one. */
export const CHILD_STORE: Omit<Partial<StoreConfig>, 'dir'> = {
  segmentBytes: 288 * 1024,
  maxBodyBytes: 1024,
  cqEntriesPerSegment: 256,
  checkpointIntervalMs: 100,
};
export const CHILD_QUEUES = 8;
export const CHILD_APPENDERS = 32;
export const childTopic = (run: number): string => `run${run}`;
const BORN_BASE_MS = 1_700_000_000_000;
const MIN_BODY_BYTES = 40;
const BODY_SPREAD_BYTES = 400;

export interface MessageShape {
  readonly topic?: string;
  readonly queues?: number;
  /** Overrides the derived body length. */
  readonly bodyBytes?: number;
  /** Distinguishes runs that share a store (part of the body and the messageId). */
  readonly run?: number;
}

/** The body of message `seq`: its length and content derive from (run, seq). */
export function bodyOf(seq: number, shape: MessageShape = {}): Buffer {
  const run = shape.run ?? 0;
  const bytes = shape.bodyBytes ?? MIN_BODY_BYTES + ((seq * 7919) % BODY_SPREAD_BYTES);
  const digest = createHash('sha256').update(`apogee-${run}-${seq}`).digest();
  return Buffer.alloc(bytes, digest); // the digest, repeated
}

export function messageOf(seq: number, shape: MessageShape = {}): MessageInput {
  const run = shape.run ?? 0;
  const body = bodyOf(seq, shape);
  return {
    topic: shape.topic ?? CRASH_TOPIC,
    queueId: seq % (shape.queues ?? 4),
    body,
    messageId: `r${run}-m${seq}`,
    bornTimestampMs: BORN_BASE_MS + seq,
    keys: [`k${seq}`],
    tag: seq % 3 === 0 ? 'TagA' : 'TagB',
    properties: { seq: String(seq), run: String(run), bytes: String(body.length) },
  };
}

/** The seq of a stored message, or a reason why it is not one of ours intact. */
export function checkStored(m: StoredMessage, shape: MessageShape = {}): { seq: number } | { problem: string } {
  const seq = Number(m.properties['seq']);
  if (!Number.isSafeInteger(seq)) return { problem: `no seq property at PhysicalOffset ${m.physicalOffset}` };
  const want = messageOf(seq, { ...shape, run: Number(m.properties['run']), bodyBytes: Number(m.properties['bytes']) });
  if (m.messageId !== want.messageId) return { problem: `seq ${seq}: messageId ${m.messageId}` };
  if (m.topic !== want.topic || m.queueId !== want.queueId) return { problem: `seq ${seq}: in ${m.topic}/${m.queueId}` };
  if (!m.body.equals(want.body)) return { problem: `seq ${seq}: body differs` };
  if (m.tag !== want.tag || m.keys.join(',') !== want.keys?.join(',')) return { problem: `seq ${seq}: tag or keys differ` };
  return { seq };
}
