/**
 * Tokenizer for SQL92 filter expressions. Produces the whole token list up front (expressions
 * are at most MAX_EXPRESSION_LENGTH characters), each token with its 1-based column for error
 * messages. Keywords are case-insensitive and reserved; identifiers (property names) are
 * case-sensitive: a letter, `_` or `$`, then letters, digits, `_`, `$` or `.` (so `a.b` is one name).
 * Strings are single-quoted with `''` for a quote; numbers are unsigned (`-` is its own token).
 */
import { SqlFilterError } from './errors';

export const KEYWORDS = ['AND', 'OR', 'NOT', 'BETWEEN', 'IN', 'IS', 'NULL', 'TRUE', 'FALSE'] as const;
export type Keyword = (typeof KEYWORDS)[number];

export type ComparisonOperator = '=' | '<>' | '<' | '<=' | '>' | '>=';

export type Token =
  | { readonly kind: 'keyword'; readonly keyword: Keyword; readonly text: string; readonly column: number }
  | { readonly kind: 'identifier'; readonly name: string; readonly text: string; readonly column: number }
  | { readonly kind: 'string'; readonly value: string; readonly text: string; readonly column: number }
  | { readonly kind: 'number'; readonly value: number; readonly text: string; readonly column: number }
  | { readonly kind: 'operator'; readonly operator: ComparisonOperator; readonly text: string; readonly column: number }
  | { readonly kind: 'punctuation'; readonly text: '(' | ')' | ',' | '-'; readonly column: number }
  | { readonly kind: 'end'; readonly text: ''; readonly column: number };

const KEYWORD_SET: ReadonlySet<string> = new Set(KEYWORDS);
const IDENTIFIER_START = /[A-Za-z_$]/;
const IDENTIFIER_PART = /[A-Za-z0-9_$.]/;
const DIGIT = /[0-9]/;
const WHITESPACE = /[ \t\r\n\f]/;
/** Longest first, so `<=` and `<>` win over `<`. */
const OPERATORS: readonly ComparisonOperator[] = ['<>', '<=', '>=', '=', '<', '>'];

export function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (problem: string, at: number, hint?: string): never => {
    throw new SqlFilterError(expression, problem, at + 1, hint);
  };
  while (i < expression.length) {
    const ch = expression[i];
    const column = i + 1;
    if (WHITESPACE.test(ch)) {
      i++;
    } else if (ch === '(' || ch === ')' || ch === ',' || ch === '-') {
      tokens.push({ kind: 'punctuation', text: ch, column });
      i++;
    } else if (ch === "'") {
      let value = '';
      let j = i + 1;
      for (;;) {
        const close = expression.indexOf("'", j);
        if (close < 0) fail('unterminated string literal', i, "close it with ' (write '' for a quote inside)");
        value += expression.slice(j, close);
        if (expression[close + 1] === "'") {
          value += "'";
          j = close + 2;
        } else {
          j = close + 1;
          break;
        }
      }
      tokens.push({ kind: 'string', value, text: expression.slice(i, j), column });
      i = j;
    } else if (DIGIT.test(ch) || (ch === '.' && DIGIT.test(expression[i + 1] ?? ''))) {
      const match = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(expression.slice(i));
      const text = match === null ? ch : match[0];
      if (IDENTIFIER_PART.test(expression[i + text.length] ?? '')) {
        fail(`malformed number '${expression.slice(i, i + text.length + 1)}'`, i);
      }
      const value = Number(text);
      if (!Number.isFinite(value)) fail(`number '${text}' is out of range`, i);
      tokens.push({ kind: 'number', value, text, column });
      i += text.length;
    } else if (IDENTIFIER_START.test(ch)) {
      let j = i + 1;
      while (j < expression.length && IDENTIFIER_PART.test(expression[j])) j++;
      const text = expression.slice(i, j);
      const upper = text.toUpperCase();
      tokens.push(
        KEYWORD_SET.has(upper)
          ? { kind: 'keyword', keyword: upper as Keyword, text, column }
          : { kind: 'identifier', name: text, text, column },
      );
      i = j;
    } else {
      const operator = OPERATORS.find((op) => expression.startsWith(op, i));
      if (operator !== undefined) {
        tokens.push({ kind: 'operator', operator, text: operator, column });
        i += operator.length;
      } else if (expression.startsWith('!=', i)) {
        fail("unexpected '!='", i, "write not-equal as '<>'");
      } else if (ch === '"') {
        fail('unexpected \'"\'', i, "quote strings with ' (property names are not quoted)");
      } else {
        fail(`unexpected character ${JSON.stringify(ch)}`, i);
      }
    }
  }
  tokens.push({ kind: 'end', text: '', column: expression.length + 1 });
  return tokens;
}

/** How a token is named in error messages. */
export function describeToken(token: Token): string {
  if (token.kind === 'end') return 'end of expression';
  const text = token.text.length > 40 ? `${token.text.slice(0, 40)}…` : token.text;
  return `token ${token.kind === 'string' ? text : `'${text}'`}`;
}
