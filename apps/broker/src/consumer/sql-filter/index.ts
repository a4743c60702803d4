/**
 * SQL92 property filters for RocketMQ `FilterType.SQL` subscriptions: compile the expression once
 * per subscription with compileSqlFilter, then call matches for each message. Supported: `=` `<>`
 * `<` `<=` `>` `>=`, [NOT] BETWEEN … AND …, [NOT] IN ('a', …), IS [NOT] NULL, AND / OR / NOT
 * (NOT binds tightest, then AND, then OR) and parentheses; string literals in single quotes with
 * `''` for a quote, numbers (integer, decimal, exponent, leading `-`), TRUE / FALSE. Keywords are
 * case-insensitive; property names are case-sensitive and may contain `.` (`a.b`).
 *
 * The caller passes the message's user properties, plus its tag as the `TAGS` property (as
 * RocketMQ stores it), so `TAGS = 'A'` or `TAGS IN ('A', 'B')` filter on the tag; a message
 * without a tag has no TAGS property. Type and null rules are in evaluate.ts; syntax in parser.ts.
 * A bad expression throws SqlFilterError (an ILLEGAL_FILTER_EXPRESSION ApogeeError) saying what
 * is wrong and at which column. Expressions are limited to MAX_EXPRESSION_LENGTH characters and
 * MAX_NESTING_DEPTH levels; compiling and matching are linear in the expression length.
 */
import type { ConditionNode, ValueNode } from './ast';
import { compileCondition, type Properties } from './evaluate';
import { parseSqlFilter } from './parser';

export { SqlFilterError } from './errors';
export { MAX_EXPRESSION_LENGTH, MAX_NESTING_DEPTH } from './parser';

/** The property that carries the message tag. */
export const TAGS_PROPERTY = 'TAGS';

export interface SqlFilter {
  /** The expression as given, for logs. */
  readonly expression: string;
  /** Property names the expression reads, in order of first use (TAGS included if used). */
  readonly propertyNames: readonly string[];
  /** True only when the expression is true for these properties (false or unknown do not match). */
  matches(properties: Properties): boolean;
}

export function compileSqlFilter(expression: string): SqlFilter {
  const tree = parseSqlFilter(expression);
  const condition = compileCondition(expression, tree);
  return Object.freeze({
    expression,
    propertyNames: Object.freeze(propertyNamesOf(tree)),
    matches: (properties: Properties) => condition(properties) === true,
  });
}

function propertyNamesOf(tree: ConditionNode): string[] {
  const names = new Set<string>();
  const add = (...values: ValueNode[]): void => {
    for (const value of values) if (value.kind === 'property') names.add(value.name);
  };
  const visit = (node: ConditionNode): void => {
    switch (node.kind) {
      case 'or':
      case 'and':
        return node.operands.forEach(visit);
      case 'not':
        return visit(node.operand);
      case 'compare':
        return add(node.left, node.right);
      case 'between':
        return add(node.value, node.low, node.high);
      case 'in':
      case 'isNull':
        return add(node.value);
      case 'constant':
        return;
    }
  };
  visit(tree);
  return [...names];
}
