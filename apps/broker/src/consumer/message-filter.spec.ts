import { tagHashOf } from '@apogee/storage';
import { compileFilter } from './message-filter';

const message = (tag: string, properties: Record<string, string> = {}) => ({ tag, properties });

describe('compileFilter', () => {
  it('matches TAG filters by hash first, then by the tag itself', () => {
    const filter = compileFilter('TAG', 'A||B');
    expect(filter.matchesHash(tagHashOf('A'))).toBe(true);
    expect(filter.matchesHash(tagHashOf('C'))).toBe(false);
    expect([message('A'), message('B'), message('C'), message('')].map((m) => filter.matches(m))).toEqual([true, true, false, false]);
  });

  it('matches SQL filters on user properties and the message tag as TAGS, passing every hash', () => {
    const filter = compileFilter('SQL', "TAGS = 'A' AND n > 2");
    expect(filter.matchesHash(tagHashOf('anything'))).toBe(true);
    expect(filter.matches(message('A', { n: '3' }))).toBe(true);
    expect(filter.matches(message('B', { n: '3' }))).toBe(false);
    // a user property named TAGS does not stand in for the tag
    expect(filter.matches(message('', { n: '3', TAGS: 'A' }))).toBe(false);
    expect(compileFilter('SQL', 'TAGS IS NULL').matches(message('', { TAGS: 'A' }))).toBe(true);
  });

  it('refuses an empty or malformed SQL expression with what to fix', () => {
    expect(() => compileFilter('SQL', ' ')).toThrow(/empty/);
    expect(() => compileFilter('SQL', 'a = ')).toThrow(expect.objectContaining({ code: 'ILLEGAL_FILTER_EXPRESSION' }));
  });
});
