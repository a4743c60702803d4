/**
 * Recursive-descent parser for SQL92 filter expressions (RocketMQ's `FilterType.SQL`), one token
 * of lookahead, no backtracking, so parsing is linear in the expression length. Grammar, loosest
 * binding first (keywords case-insensitive):
 *
 *   condition  := and ( OR and )*
 *   and        := not ( AND not )*
 *   not        := NOT not | primary
 *   primary    := '(' condition ')'
 *               | value ( op value | [NOT] BETWEEN value AND value
 *                       | [NOT] IN '(' string ( ',' string )* ')' | IS [NOT] NULL )
 *               | TRUE | FALSE
 *   value      := property | string | [ '-' ] number | TRUE | FALSE
 *   op         := '=' | '<>' | '<' | '<=' | '>' | '>='
 *
 * Nesting (parentheses and NOT) is bounded by MAX_NESTING_DEPTH so a hostile expression cannot
 * exhaust the stack. Type rules (which operands an operator accepts) are checked by the compiler.
 */
import type { ConditionNode, ValueNode } from './ast';
import { SqlFilterError } from './errors';
import { describeToken, tokenize, type Keyword, type Token } from './lexer';

export const MAX_EXPRESSION_LENGTH = 4096;
export const MAX_NESTING_DEPTH = 64;

export function parseSqlFilter(expression: string): ConditionNode {
  if (expression.length > MAX_EXPRESSION_LENGTH) {
    throw new SqlFilterError(
      expression,
      `expression is ${expression.length} characters long`,
      undefined,
      `the limit is ${MAX_EXPRESSION_LENGTH}`,
    );
  }
  return new Parser(expression, tokenize(expression)).parse();
}

class Parser {
  private position = 0;
  private depth = 0;

  constructor(
    private readonly expression: string,
    private readonly tokens: readonly Token[],
  ) {}

  parse(): ConditionNode {
    if (this.peek().kind === 'end') throw new SqlFilterError(this.expression, 'expression is empty', undefined);
    const condition = this.condition();
    const rest = this.peek();
    if (rest.kind !== 'end') this.fail(rest, 'AND, OR or the end of the expression');
    return condition;
  }

  private condition(): ConditionNode {
    const first = this.and();
    if (!this.isKeyword(this.peek(), 'OR')) return first;
    const operands = [first];
    while (this.acceptKeyword('OR')) operands.push(this.and());
    return { kind: 'or', operands, column: first.column };
  }

  private and(): ConditionNode {
    const first = this.not();
    if (!this.isKeyword(this.peek(), 'AND')) return first;
    const operands = [first];
    while (this.acceptKeyword('AND')) operands.push(this.not());
    return { kind: 'and', operands, column: first.column };
  }

  private not(): ConditionNode {
    const token = this.peek();
    if (!this.isKeyword(token, 'NOT')) return this.primary();
    this.next();
    return { kind: 'not', operand: this.nested(token, () => this.not()), column: token.column };
  }

  private primary(): ConditionNode {
    const token = this.peek();
    if (token.kind === 'punctuation' && token.text === '(') {
      this.next();
      const inner = this.nested(token, () => this.condition());
      this.expectPunctuation(')', `')' to close the '(' at column ${token.column}`);
      return inner;
    }
    const value = this.value('a condition, a property name or a literal');
    const next = this.peek();
    if (next.kind === 'operator') {
      this.next();
      const right = this.value('a value');
      return { kind: 'compare', operator: next.operator, left: value, right, column: value.column };
    }
    let negated = false;
    if (this.isKeyword(next, 'NOT')) {
      this.next();
      negated = true;
      const after = this.peek();
      if (!this.isKeyword(after, 'BETWEEN') && !this.isKeyword(after, 'IN')) {
        this.fail(after, 'BETWEEN or IN after NOT');
      }
    }
    if (this.acceptKeyword('BETWEEN')) {
      const low = this.value('the lower bound of BETWEEN');
      if (!this.acceptKeyword('AND')) this.fail(this.peek(), 'AND between the bounds of BETWEEN');
      const high = this.value('the upper bound of BETWEEN');
      return { kind: 'between', negated, value, low, high, column: value.column };
    }
    if (this.acceptKeyword('IN')) {
      return { kind: 'in', negated, value, items: this.inList(), column: value.column };
    }
    if (this.acceptKeyword('IS')) {
      const isNot = this.acceptKeyword('NOT');
      if (!this.acceptKeyword('NULL')) {
        this.fail(this.peek(), isNot ? 'NULL after IS NOT' : 'NULL or NOT NULL after IS');
      }
      return { kind: 'isNull', negated: isNot, value, column: value.column };
    }
    if (value.kind === 'boolean') return { kind: 'constant', value: value.value, column: value.column };
    return this.fail(next, 'a comparison operator, BETWEEN, IN or IS after the value');
  }

  private inList(): string[] {
    this.expectPunctuation('(', "'(' to open the IN list");
    const items: string[] = [];
    do {
      const token = this.next();
      if (token.kind !== 'string') this.fail(token, 'a string literal in the IN list');
      else items.push(token.value);
    } while (this.acceptPunctuation(','));
    this.expectPunctuation(')', "',' or ')' in the IN list");
    return items;
  }

  private value(expected: string): ValueNode {
    const token = this.next();
    switch (token.kind) {
      case 'identifier':
        return { kind: 'property', name: token.name, column: token.column };
      case 'string':
        return { kind: 'string', value: token.value, column: token.column };
      case 'number':
        return { kind: 'number', value: token.value, column: token.column };
      case 'keyword':
        if (token.keyword === 'TRUE' || token.keyword === 'FALSE') {
          return { kind: 'boolean', value: token.keyword === 'TRUE', column: token.column };
        }
        if (token.keyword === 'NULL') {
          const hint = "test it with 'IS NULL' or 'IS NOT NULL'";
          throw new SqlFilterError(this.expression, 'NULL is not a value', token.column, hint);
        }
        break;
      case 'punctuation':
        if (token.text === '-') {
          const number = this.next();
          if (number.kind !== 'number') this.fail(number, "a number after '-'");
          else return { kind: 'number', value: -number.value, column: token.column };
        }
        break;
    }
    return this.fail(token, expected);
  }

  private nested<T>(opener: Token, parse: () => T): T {
    if (++this.depth > MAX_NESTING_DEPTH) {
      throw new SqlFilterError(
        this.expression,
        `nesting is too deep`,
        opener.column,
        `at most ${MAX_NESTING_DEPTH} levels of parentheses and NOT`,
      );
    }
    const result = parse();
    this.depth--;
    return result;
  }

  private peek(): Token {
    return this.tokens[this.position];
  }

  private next(): Token {
    const token = this.tokens[this.position];
    if (token.kind !== 'end') this.position++;
    return token;
  }

  private isKeyword(token: Token, keyword: Keyword): boolean {
    return token.kind === 'keyword' && token.keyword === keyword;
  }

  private acceptKeyword(keyword: Keyword): boolean {
    if (!this.isKeyword(this.peek(), keyword)) return false;
    this.position++;
    return true;
  }

  private acceptPunctuation(text: '(' | ')' | ','): boolean {
    const token = this.peek();
    if (token.kind !== 'punctuation' || token.text !== text) return false;
    this.position++;
    return true;
  }

  private expectPunctuation(text: '(' | ')' | ',', expected: string): void {
    if (!this.acceptPunctuation(text)) this.fail(this.peek(), expected);
  }

  private fail(token: Token, expected: string): never {
    const problem = `unexpected ${describeToken(token)}`;
    throw new SqlFilterError(this.expression, problem, token.column, `expected ${expected}`);
  }
}
