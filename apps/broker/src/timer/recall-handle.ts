/**
 * Recall handles (doc §3.7): what SendMessage returns for a delayed message and RecallMessage
 * brings back. URL-safe Base64 (no padding) of the UTF-8 text
 *
 *   v1 <topic> <brokerName> <dueMs> <physicalOffset> <messageId>
 *
 * separated by single spaces, like RocketMQ's `RecallMessageHandle` (which has no offset). The
 * physical offset names the timer record in the commit log, so a recall finds it without an
 * index; the broker checks the record's topic, id and due time against the handle before
 * cancelling, so a forged offset cannot cancel another message. The message id comes last: it is
 * the only field that might contain a space.
 */
import { ApogeeError } from '@apogee/protocol';

const VERSION = 'v1';
const FIELD_COUNT = 6;

export interface RecallHandle {
  readonly topic: string;
  readonly brokerName: string;
  readonly dueMs: number;
  readonly physicalOffset: number;
  readonly messageId: string;
}

export function encodeRecallHandle(handle: RecallHandle): string {
  const text = [VERSION, handle.topic, handle.brokerName, handle.dueMs, handle.physicalOffset, handle.messageId].join(' ');
  return Buffer.from(text, 'utf8').toString('base64url');
}

/** The handle's fields; BAD_REQUEST naming what is wrong when it is not a handle this broker makes. */
export function decodeRecallHandle(encoded: string): RecallHandle {
  if (encoded.trim() === '' || !/^[A-Za-z0-9_-]+$/.test(encoded)) {
    throw malformed('it is empty or not URL-safe Base64');
  }
  const parts = Buffer.from(encoded, 'base64url').toString('utf8').split(' ');
  if (parts.length < FIELD_COUNT) throw malformed(`it has ${parts.length} fields, expected ${FIELD_COUNT}`);
  const [version, topic, brokerName, dueText, offsetText] = parts;
  const messageId = parts.slice(FIELD_COUNT - 1).join(' ');
  if (version !== VERSION) throw malformed(`its version is ${JSON.stringify(version)}, expected ${VERSION}`);
  const dueMs = wholeNumber(dueText);
  const physicalOffset = wholeNumber(offsetText);
  if (topic === '' || brokerName === '' || messageId === '' || dueMs === undefined || physicalOffset === undefined) {
    throw malformed('a field is empty or not a number');
  }
  return { topic, brokerName, dueMs, physicalOffset, messageId };
}

function wholeNumber(text: string): number | undefined {
  if (!/^\d{1,16}$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

function malformed(why: string): ApogeeError {
  return new ApogeeError('BAD_REQUEST', `The recall handle is malformed (${why}); pass the recallHandle of a delay message's send receipt`);
}
