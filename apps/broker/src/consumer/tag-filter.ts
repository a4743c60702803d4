/**
 * TAG filter expressions (rocketmq-v2-protocol.md §5.8): `*` (or empty) matches every message,
 * otherwise tags joined by `||`, each trimmed. Consume-queue entries are matched by tag hash
 * (cheap, no commit-log read); the message read afterwards is matched by its tag, which rules
 * out hash collisions.
 */
import { ApogeeError } from '@apogee/protocol';
import { tagHashOf } from '@apogee/storage';
import type { MessageFilter } from './message-filter';

const MATCH_ALL = '*';
const SEPARATOR = '||';

export const ALL_TAGS: MessageFilter = Object.freeze({
  expression: MATCH_ALL,
  matchesHash: () => true,
  matches: () => true,
});

/** Parses `*` or `A||B`; rejects an expression with an empty tag (ILLEGAL_FILTER_EXPRESSION). */
export function parseTagFilter(expression: string): MessageFilter {
  const trimmed = expression.trim();
  if (trimmed === '' || trimmed === MATCH_ALL) return ALL_TAGS;
  const tags = trimmed.split(SEPARATOR).map((tag) => tag.trim());
  if (tags.some((tag) => tag === '' || tag === MATCH_ALL)) {
    throw new ApogeeError(
      'ILLEGAL_FILTER_EXPRESSION',
      `Tag filter ${JSON.stringify(expression)} has an empty or '*' tag; use '*' or tags joined by '||'`,
    );
  }
  const tagSet = new Set(tags);
  const hashes = new Set(tags.map(tagHashOf));
  return Object.freeze({
    expression: trimmed,
    matchesHash: (tagHash: number) => hashes.has(tagHash),
    matches: (message: { readonly tag: string }) => tagSet.has(message.tag),
  });
}
