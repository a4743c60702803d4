/**
 * The MessagesByTime cursor: where the next page starts, as base64url of the JSON
 * `{"q": queueId, "o": queueOffset}`. Opaque to callers; a cursor that does not parse is
 * INVALID_ARGUMENT.
 */
import { ApogeeError } from '@apogee/protocol';

export interface TimeCursor {
  readonly queueId: number;
  readonly queueOffset: number;
}

export function encodeTimeCursor(cursor: TimeCursor): string {
  return Buffer.from(JSON.stringify({ q: cursor.queueId, o: cursor.queueOffset })).toString('base64url');
}

export function decodeTimeCursor(text: string): TimeCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const { q, o } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { q?: unknown; o?: unknown };
  const valid = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
  if (!valid(q) || !valid(o)) throw new ApogeeError('INVALID_ARGUMENT', 'cursor is not one this broker returned');
  return { queueId: q, queueOffset: o };
}
