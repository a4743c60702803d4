/**
 * A subscription's filter, whichever its type (rocketmq-v2-protocol.md §5.8): TAG (`*`, `A||B`;
 * tag-filter.ts) or SQL92 over user properties and the tag (sql-filter/). Consume-queue entries
 * are first matched by tag hash (cheap, no commit-log read; SQL filters pass every entry), and the
 * message read afterwards by `matches`, which rules out tag-hash collisions.
 */
import type { StoredMessage } from '@apogee/storage';
import { ApogeeError } from '@apogee/protocol';
import { compileSqlFilter, TAGS_PROPERTY } from './sql-filter';
import { parseTagFilter } from './tag-filter';

export interface MessageFilter {
  /** The expression as given, for logs. */
  readonly expression: string;
  matchesHash(tagHash: number): boolean;
  matches(message: Pick<StoredMessage, 'tag' | 'properties'>): boolean;
}

export type FilterType = 'TAG' | 'SQL';

/** Compiles a subscription's expression; a bad one throws ILLEGAL_FILTER_EXPRESSION saying what to fix. */
export function compileFilter(type: FilterType, expression: string): MessageFilter {
  return type === 'SQL' ? sqlFilter(expression) : parseTagFilter(expression);
}

function sqlFilter(expression: string): MessageFilter {
  if (expression.trim() === '') {
    throw new ApogeeError('ILLEGAL_FILTER_EXPRESSION', 'The SQL filter expression is empty; write a condition such as a = 1');
  }
  const sql = compileSqlFilter(expression);
  const readsTag = sql.propertyNames.includes(TAGS_PROPERTY);
  return Object.freeze({
    expression,
    matchesHash: () => true,
    matches: (message: Pick<StoredMessage, 'tag' | 'properties'>) => {
      if (!readsTag) return sql.matches(message.properties);
      const { [TAGS_PROPERTY]: _userTags, ...properties } = message.properties;
      return sql.matches(message.tag === '' ? properties : { ...properties, [TAGS_PROPERTY]: message.tag });
    },
  });
}
