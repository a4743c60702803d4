/**
 * The one error a SQL92 filter expression can fail to compile with: what is wrong and at which
 * 1-based column of the expression. It is an ILLEGAL_FILTER_EXPRESSION ApogeeError, so the
 * messaging handlers report it to the client like a bad TAG expression.
 */
import { ApogeeError } from '@apogee/protocol';

export class SqlFilterError extends ApogeeError {
  /** What is wrong and where, e.g. `unexpected token ')' at column 14; expected a value`. */
  readonly detail: string;

  constructor(
    readonly expression: string,
    problem: string,
    /** 1-based column the problem starts at; undefined when it is about the whole expression. */
    readonly column: number | undefined,
    hint?: string,
  ) {
    const where = column === undefined ? '' : ` at column ${column}`;
    const detail = `${problem}${where}${hint === undefined ? '' : `; ${hint}`}`;
    super('ILLEGAL_FILTER_EXPRESSION', `Invalid SQL filter ${JSON.stringify(clip(expression))}: ${detail}`);
    this.name = 'SqlFilterError';
    this.detail = detail;
  }
}

const QUOTED_EXPRESSION_LIMIT = 200;

/** Keeps the error message readable when the expression is huge. */
function clip(expression: string): string {
  if (expression.length <= QUOTED_EXPRESSION_LIMIT) return expression;
  return `${expression.slice(0, QUOTED_EXPRESSION_LIMIT)}…`;
}
