import { compileSqlFilter, MAX_EXPRESSION_LENGTH, MAX_NESTING_DEPTH, SqlFilterError } from './index';

type Props = Record<string, string>;

const order: Props = {
  TAGS: 'TagA',
  region: 'eu',
  a: '5',
  b: '10',
  price: '12.5',
  flag: 'TRUE',
  'a.b': 'x',
  name: "O'Brien",
};
const none: Props = {};

/** [expression, properties, expected match] */
const cases: [string, Props, boolean][] = [
  // = and <> on strings: exact, case-sensitive
  ["region = 'eu'", order, true],
  ["region = 'EU'", order, false],
  ["region <> 'us'", order, true],
  ["region <> 'eu'", order, false],
  ["'eu' = region", order, true],
  ["TAGS = 'TagA'", order, true],
  ["TAGS = 'TagB'", order, false],
  ["TAGS = 'TagA'", { region: 'eu' }, false],
  ["TAGS IS NULL AND region = 'eu'", { region: 'eu' }, true],
  // numbers: the property is parsed when compared with a number
  ['a = 5', order, true],
  ['a = 5.0', order, true],
  ['a = 6', order, false],
  ['a <> 6', order, true],
  ['a < 6', order, true],
  ['a < 5', order, false],
  ['a <= 5', order, true],
  ['a > 4', order, true],
  ['a > 5', order, false],
  ['a >= 5', order, true],
  ['a >= 5.01', order, false],
  ['6 > a', order, true],
  ['5 <= a', order, true],
  ['4 >= a', order, false],
  ['price > 12', order, true],
  ['price = 12.5', order, true],
  ['price < 1.25e1', order, false],
  ['price < .5e2', order, true],
  ['a > -1', order, true],
  ['a > - 10', order, true],
  ['n < 0', { n: '-3' }, true],
  ['n = -3', { n: '-3' }, true],
  ['n = 3', { n: '+3' }, true],
  ['n = 300', { n: '3e2' }, true],
  ["a = '5'", order, true],
  ["a = '5.0'", order, false],
  ['b > a', order, true],
  ['b < a', order, false],
  ["b = '10'", order, true],
  ['x = y', { x: '1', y: '1' }, true],
  ['x = y', { x: '1', y: '1.0' }, false],
  ['x <= y', { x: '1', y: '1.0' }, true],
  // non-numeric values: comparisons are false (not an error), <> is true, NOT flips
  ['region > 1', order, false],
  ['region = 1', order, false],
  ['region <> 1', order, true],
  ['NOT region > 1', order, true],
  ['n = 1', { n: '' }, false],
  ['n = 1', { n: ' 1' }, false],
  ['n = 16', { n: '0x10' }, false],
  ['n > 0', { n: 'Infinity' }, false],
  ['x < y', { x: 'a', y: 'b' }, false],
  // booleans
  ['flag = TRUE', order, true],
  ['flag = true', order, true],
  ['flag <> FALSE', order, true],
  ['flag = FALSE', order, false],
  ['f = TRUE', { f: 'yes' }, false],
  ['f <> TRUE', { f: 'yes' }, true],
  ['f = false', { f: 'False' }, true],
  ['TRUE', none, true],
  ['FALSE', none, false],
  ['NOT FALSE', none, true],
  ['TRUE = TRUE', none, true],
  ['1 < 2', none, true],
  ["'a' = 'a'", none, true],
  ["'a' <> 'a'", none, false],
  // BETWEEN
  ['a BETWEEN 1 AND 5', order, true],
  ['a BETWEEN 5 AND 5', order, true],
  ['a BETWEEN 6 AND 10', order, false],
  ['a BETWEEN -1.5 AND 5.5', order, true],
  ['a NOT BETWEEN 6 AND 10', order, true],
  ['a NOT BETWEEN 1 AND 10', order, false],
  ['a BETWEEN 1 AND b', order, true],
  ['region BETWEEN 1 AND 10', order, false],
  ['region NOT BETWEEN 1 AND 10', order, false],
  ['a BETWEEN 1 AND 10 AND b = 10', order, true],
  ['a BETWEEN 1 AND 3 OR b = 10', order, true],
  // IN
  ["region IN ('us', 'eu')", order, true],
  ["region IN ('us','asia')", order, false],
  ["region NOT IN ('us', 'asia')", order, true],
  ["region NOT IN ('eu')", order, false],
  ["TAGS IN ('TagA', 'TagB')", order, true],
  ["a IN ('5')", order, true],
  ["'x' IN ('x')", none, true],
  // IS NULL
  ['missing IS NULL', order, true],
  ['region IS NULL', order, false],
  ['region IS NOT NULL', order, true],
  ['missing IS NOT NULL', order, false],
  ["n IS NULL", { n: '' }, false],
  ["'x' IS NULL", none, false],
  // missing properties: every comparison is unknown, and NOT unknown is unknown
  ["missing = 'x'", order, false],
  ["missing <> 'x'", order, false],
  ["NOT missing = 'x'", order, false],
  ['missing > 1', order, false],
  ['NOT missing > 1', order, false],
  ['missing BETWEEN 1 AND 2', order, false],
  ['missing NOT BETWEEN 1 AND 2', order, false],
  ["missing IN ('x')", order, false],
  ["missing NOT IN ('x')", order, false],
  ['missing = a', order, false],
  ['a BETWEEN missing AND 10', order, false],
  ["missing = 'x' OR region = 'eu'", order, true],
  ["NOT (missing = 'x' OR region = 'us')", order, false],
  ["NOT (missing = 'x' AND region = 'us')", order, true],
  ["missing = 'x' AND region = 'us'", order, false],
  // inherited object keys are not properties
  ['constructor IS NULL', none, true],
  ['toString IS NULL', none, true],
  ["constructor = 'x'", none, false],
  // precedence: NOT > AND > OR, and parentheses
  ["region = 'eu' OR region = 'us' AND a = 6", order, true],
  ["(region = 'eu' OR region = 'us') AND a = 6", order, false],
  ["a = 6 AND region = 'us' OR region = 'eu'", order, true],
  ["NOT region = 'us' AND a = 5", order, true],
  ["NOT (region = 'eu' AND a = 5)", order, false],
  ["NOT region = 'eu' OR a = 5", order, true],
  ["NOT NOT region = 'eu'", order, true],
  ["((((region = 'eu'))))", order, true],
  ['a = 1 OR a = 2 OR a = 3 OR a = 4 OR a = 5', order, true],
  ['a > 1 AND a > 2 AND a > 3 AND a > 6', order, false],
  // case-insensitive keywords, case-sensitive names
  ["region in ('eu') and a between 1 and 9 or false", order, true],
  ["Region = 'eu'", order, false],
  ['missing is not null', order, false],
  ['a NoT bEtWeEn 6 AnD 7', order, true],
  // names and strings
  ["a.b = 'x'", order, true],
  ["name = 'O''Brien'", order, true],
  ["name = 'O'''", order, false],
  ["q = ''''", { q: "'" }, true],
  ["e = ''", { e: '' }, true],
  ["s = 'a b, (c) AND d'", { s: 'a b, (c) AND d' }, true],
  ["s = 'é ü'", { s: 'é ü' }, true],
  ['$x_1 = 1', { $x_1: '1' }, true],
  ["\tregion\n=\r\n'eu'  ", order, true],
];

describe('SQL92 filter', () => {
  it.each(cases)('%j with %j → %s', (expression, properties, expected) => {
    expect(compileSqlFilter(expression).matches(properties)).toBe(expected);
  });
});

/** [expression, fragments the error message must contain] */
const errors: [string, string[]][] = [
  ['', ['expression is empty']],
  ['   ', ['expression is empty']],
  ['a = )', ["unexpected token ')' at column 5; expected a value"]],
  ["(region = 'eu' OR a = )", ["unexpected token ')' at column 23; expected a value"]],
  ['a =', ['unexpected end of expression at column 4; expected a value']],
  ['a', ['unexpected end of expression at column 2', 'expected a comparison operator, BETWEEN, IN or IS']],
  ["a = 1 b = 2", ["unexpected token 'b' at column 7; expected AND, OR or the end of the expression"]],
  ["(a = 1", ["unexpected end of expression at column 7; expected ')' to close the '(' at column 1"]],
  ['a = 1)', ["unexpected token ')' at column 6"]],
  ["a = 'abc", ['unterminated string literal at column 5']],
  ["a = 'it''s", ['unterminated string literal at column 5']],
  ['a != 1', ["unexpected '!=' at column 3", "'<>'"]],
  ['a == 1', ["unexpected token '=' at column 4; expected a value"]],
  ['a = "x"', ['column 5', "quote strings with '"]],
  ['a = 1 && b = 2', ['unexpected character "&" at column 7']],
  ['a = 1 AND', ['unexpected end of expression at column 10; expected a condition']],
  ['AND a = 1', ["unexpected token 'AND' at column 1; expected a condition"]],
  ['a = NULL', ['NULL is not a value at column 5', 'IS NULL']],
  ['a IS 1', ["unexpected token '1' at column 6; expected NULL or NOT NULL after IS"]],
  ['a IS NOT 1', ['expected NULL after IS NOT']],
  ['a NOT = 1', ["unexpected token '=' at column 7; expected BETWEEN or IN after NOT"]],
  ['a BETWEEN 1 OR 2', ["unexpected token 'OR' at column 13; expected AND between the bounds of BETWEEN"]],
  ['a BETWEEN 1', ['unexpected end of expression at column 12']],
  ["a BETWEEN 'x' AND 'y'", ["string 'x' cannot be used with BETWEEN at column 11"]],
  ["'x' BETWEEN 1 AND 2", ["string 'x' cannot be used with BETWEEN at column 1"]],
  ['a IN (1, 2)', ["unexpected token '1' at column 7; expected a string literal in the IN list"]],
  ["a IN ('x' 'y')", ["unexpected token 'y' at column 11; expected ',' or ')' in the IN list"]],
  ["a IN 'x'", ["unexpected token 'x' at column 6; expected '(' to open the IN list"]],
  ['a IN ()', ["unexpected token ')' at column 7; expected a string literal"]],
  ["1 IN ('1')", ['number 1 cannot be used with IN at column 1']],
  ["a > 'x'", ["string 'x' cannot be used with '>' at column 5", 'only numbers can be ordered']],
  ["'x' < a", ["string 'x' cannot be used with '<' at column 1"]],
  ["'a' < 'b'", ["string 'a' cannot be used with '<'"]],
  ['a <= TRUE', ["TRUE cannot be used with '<='"]],
  ["1 = 'x'", ["number 1 cannot be compared with string 'x' at column 1", 'same type']],
  ['TRUE = 1', ['TRUE cannot be compared with number 1']],
  ['a = -b', ["unexpected token 'b' at column 6; expected a number after '-'"]],
  ['a = 1x', ["malformed number '1x' at column 5"]],
  ['a = 1.2.3', ["malformed number '1.2.' at column 5"]],
  ['a = 1e999', ["number '1e999' is out of range at column 5"]],
  ['a = #', ['unexpected character "#" at column 5']],
  ['()', ["unexpected token ')' at column 2"]],
  ['NOT', ['unexpected end of expression at column 4']],
  ['a = 1 OR OR b = 2', ["unexpected token 'OR' at column 10"]],
  [`a = 1 '${'x'.repeat(60)}'`, [`unexpected token '${'x'.repeat(39)}… at column 7; expected AND`]],
];

describe('SQL92 filter errors', () => {
  it.each(errors)('%j', (expression, fragments) => {
    let error: unknown;
    try {
      compileSqlFilter(expression);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SqlFilterError);
    expect(error).toMatchObject({ code: 'ILLEGAL_FILTER_EXPRESSION' });
    for (const fragment of fragments) expect((error as Error).message).toContain(fragment);
  });

  it('names the expression, the problem and the column separately', () => {
    expect(() => compileSqlFilter('a = )')).toThrow(
      expect.objectContaining({
        name: 'SqlFilterError',
        expression: 'a = )',
        column: 5,
        detail: "unexpected token ')' at column 5; expected a value",
        message: `Invalid SQL filter "a = )": unexpected token ')' at column 5; expected a value`,
      }),
    );
  });
});

describe('SQL92 filter limits', () => {
  it(`accepts ${MAX_EXPRESSION_LENGTH} characters and rejects one more`, () => {
    const base = "region = 'eu'";
    const padded = base + ' '.repeat(MAX_EXPRESSION_LENGTH - base.length);
    expect(compileSqlFilter(padded).matches(order)).toBe(true);
    expect(() => compileSqlFilter(padded + ' ')).toThrow(
      `expression is ${MAX_EXPRESSION_LENGTH + 1} characters long; the limit is ${MAX_EXPRESSION_LENGTH}`,
    );
  });

  it(`accepts ${MAX_NESTING_DEPTH} levels of nesting and rejects more`, () => {
    const nested = (depth: number) => `${'('.repeat(depth)}a = 5${')'.repeat(depth)}`;
    expect(compileSqlFilter(nested(MAX_NESTING_DEPTH)).matches(order)).toBe(true);
    expect(() => compileSqlFilter(nested(MAX_NESTING_DEPTH + 1))).toThrow(
      `nesting is too deep at column ${MAX_NESTING_DEPTH + 1}; at most ${MAX_NESTING_DEPTH} levels`,
    );
    expect(() => compileSqlFilter(`${'NOT '.repeat(MAX_NESTING_DEPTH + 1)}a = 5`)).toThrow('nesting is too deep');
    expect(() => compileSqlFilter('('.repeat(2000))).toThrow('nesting is too deep');
  });

  it('compiles and evaluates a maximal flat chain quickly', () => {
    const terms: string[] = [];
    const term = (i: number) => `a = ${1000 + i} OR `;
    while ((terms.length + 1) * term(0).length + 'a = 5'.length <= MAX_EXPRESSION_LENGTH) {
      terms.push(term(terms.length));
    }
    const expression = `${terms.join('')}a = 5`;
    expect(expression.length).toBeGreaterThan(MAX_EXPRESSION_LENGTH - term(0).length);
    const started = Date.now();
    const filter = compileSqlFilter(expression);
    for (let i = 0; i < 1000; i++) expect(filter.matches(order)).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('compiled SQL92 filter', () => {
  it('keeps the expression and lists the properties it reads', () => {
    const filter = compileSqlFilter("TAGS = 'A' AND (a.b IN ('x') OR price BETWEEN lo AND 9 OR TAGS IS NULL OR 1 = 1)");
    expect(filter.expression).toBe("TAGS = 'A' AND (a.b IN ('x') OR price BETWEEN lo AND 9 OR TAGS IS NULL OR 1 = 1)");
    expect(filter.propertyNames).toEqual(['TAGS', 'a.b', 'price', 'lo']);
    expect(Object.isFrozen(filter)).toBe(true);
  });

  it('is reusable across messages', () => {
    const filter = compileSqlFilter("TAGS IN ('A', 'B') AND amount >= 100");
    expect(filter.matches({ TAGS: 'A', amount: '100' })).toBe(true);
    expect(filter.matches({ TAGS: 'C', amount: '100' })).toBe(false);
    expect(filter.matches({ TAGS: 'B', amount: '99.99' })).toBe(false);
    expect(filter.matches({ amount: '500' })).toBe(false);
    expect(filter.matches({ TAGS: 'B', amount: '1e3' })).toBe(true);
  });
});

describe('SQL92 filter robustness', () => {
  it('either compiles or throws SqlFilterError for arbitrary token soup', () => {
    const pieces = ['a', 'b.c', 'TAGS', "'x'", "''''", '1', '-2.5', '(', ')', ',', '=', '<>', '<', '>=', '-', 'AND', 'OR']
      .concat(['NOT', 'BETWEEN', 'IN', 'IS', 'NULL', 'TRUE', 'false', '!', "'", '.5', '1e3', ' ']);
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    let compiled = 0;
    for (let i = 0; i < 5000; i++) {
      const length = 1 + random(12);
      const expression = Array.from({ length }, () => pieces[random(pieces.length)]).join(' ');
      try {
        const filter = compileSqlFilter(expression);
        compiled++;
        expect(typeof filter.matches({ a: '1', 'b.c': 'x', TAGS: 'T' })).toBe('boolean');
      } catch (error) {
        if (!(error instanceof SqlFilterError)) throw error;
        expect(error.detail).toMatch(/ at column \d+|expression is empty/);
      }
    }
    expect(compiled).toBeGreaterThan(0);
  });
});
