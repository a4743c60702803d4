/**
 * Compiles a SQL92 filter syntax tree to nested closures, once per subscription, so matching a
 * message is a walk over prebuilt functions with no parsing or type dispatch left to do. Type
 * rules follow RocketMQ (whose SQL92 filter derives from ActiveMQ's selectors):
 *
 * - Conditions are three-valued: true, false or unknown (null). A missing property makes every
 *   comparison, BETWEEN and IN on it unknown; NOT unknown is unknown; AND / OR follow SQL (false
 *   AND unknown = false, true OR unknown = true). A message matches only when the whole
 *   expression is true. IS NULL is true exactly when the property is missing.
 * - Property values are strings. Compared with a number (or ordered with `<` `<=` `>` `>=`
 *   against another property) the value is parsed as a decimal number; one that does not parse
 *   makes `=`, `<`, `<=`, `>`, `>=` and BETWEEN / NOT BETWEEN false and `<>` true (never an error,
 *   never unknown, so NOT flips it). Compared with TRUE / FALSE the value must be `true` or `false`
 *   (any case) under the same rule.
 * - Strings compare only with `=` and `<>`, exactly (case-sensitive); `<` `<=` `>` `>=` and BETWEEN
 *   reject a string or boolean literal at compile time, as RocketMQ does. Two properties compare
 *   as strings with `=` / `<>` and as numbers with the ordering operators.
 * - IN takes string literals only and compares the property exactly; `a NOT IN (…)` is unknown,
 *   not true, when `a` is missing. `x NOT BETWEEN lo AND hi` is `x < lo OR x > hi`.
 * - Two literals are folded at compile time and must have the same type.
 *
 * Numbers are IEEE doubles: integers beyond 2^53 compare approximately.
 */
import type { ConditionNode, ValueNode } from './ast';
import { SqlFilterError } from './errors';
import type { ComparisonOperator } from './lexer';

/** true, false, or null for SQL's unknown. */
export type Truth = boolean | null;
export type Properties = Readonly<Record<string, string>>;
export type CompiledCondition = (properties: Properties) => Truth;

const NUMERIC = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/** A property's value, or undefined when the message does not carry it (inherited keys ignored). */
function lookup(properties: Properties, name: string): string | undefined {
  const value = properties[name];
  return typeof value === 'string' ? value : undefined;
}

/** undefined when missing, NaN when not a number. */
function toNumber(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  return NUMERIC.test(value) ? Number(value) : NaN;
}

/** undefined when missing, null when neither `true` nor `false`. */
function toBoolean(value: string | undefined): boolean | null | undefined {
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : null;
}

function order(a: number, operator: ComparisonOperator, b: number): boolean {
  switch (operator) {
    case '=':
      return a === b;
    case '<>':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
}

const FLIPPED: Readonly<Record<ComparisonOperator, ComparisonOperator>> = {
  '=': '=',
  '<>': '<>',
  '<': '>',
  '<=': '>=',
  '>': '<',
  '>=': '<=',
};

export function compileCondition(expression: string, node: ConditionNode): CompiledCondition {
  const fail = (problem: string, column: number, hint?: string): never => {
    throw new SqlFilterError(expression, problem, column, hint);
  };
  const describe = (value: ValueNode): string =>
    value.kind === 'property'
      ? `property ${value.name}`
      : value.kind === 'string'
        ? `string '${value.value.replace(/'/g, "''")}'`
        : value.kind === 'number'
          ? `number ${value.value}`
          : `${value.value ? 'TRUE' : 'FALSE'}`;

  /** A getter of the value as a number (undefined missing, NaN not numeric); rejects strings and booleans. */
  const numeric = (value: ValueNode, what: string): ((properties: Properties) => number | undefined) => {
    if (value.kind === 'property') {
      const name = value.name;
      return (properties) => toNumber(lookup(properties, name));
    }
    if (value.kind === 'number') {
      const n = value.value;
      return () => n;
    }
    return fail(
      `${describe(value)} cannot be used with ${what}`,
      value.column,
      'only numbers can be ordered; strings and booleans take = or <>',
    );
  };

  const compareNumbers = (
    left: (properties: Properties) => number | undefined,
    operator: ComparisonOperator,
    right: (properties: Properties) => number | undefined,
  ): CompiledCondition => {
    return (properties) => {
      const a = left(properties);
      const b = right(properties);
      return a === undefined || b === undefined ? null : order(a, operator, b);
    };
  };

  const compare = (node: Extract<ConditionNode, { kind: 'compare' }>): CompiledCondition => {
    let { left, right } = node;
    let operator = node.operator;
    if (left.kind !== 'property' && right.kind === 'property') {
      [left, right] = [right, left];
      operator = FLIPPED[operator];
    }
    const equality = operator === '=' || operator === '<>';
    if (!equality) {
      const l = numeric(left, `'${node.operator}'`);
      const r = numeric(right, `'${node.operator}'`);
      if (left.kind === 'number' && right.kind === 'number') return constant(order(left.value, operator, right.value));
      return compareNumbers(l, operator, r);
    }
    const negate = operator === '<>';
    if (left.kind !== 'property') {
      if (left.kind !== right.kind) {
        return fail(
          `${describe(left)} cannot be compared with ${describe(right)}`,
          node.column,
          'both sides must have the same type',
        );
      }
      return constant((literalValue(left) === literalValue(right)) !== negate);
    }
    const name = left.name;
    switch (right.kind) {
      case 'property': {
        const other = right.name;
        return (properties) => {
          const a = lookup(properties, name);
          const b = lookup(properties, other);
          return a === undefined || b === undefined ? null : (a === b) !== negate;
        };
      }
      case 'string': {
        const s = right.value;
        return (properties) => {
          const a = lookup(properties, name);
          return a === undefined ? null : (a === s) !== negate;
        };
      }
      case 'number': {
        const n = right.value;
        return (properties) => {
          const a = toNumber(lookup(properties, name));
          return a === undefined ? null : (a === n) !== negate;
        };
      }
      case 'boolean': {
        const b = right.value;
        return (properties) => {
          const a = toBoolean(lookup(properties, name));
          return a === undefined ? null : (a === b) !== negate;
        };
      }
    }
  };

  const compile = (node: ConditionNode): CompiledCondition => {
    switch (node.kind) {
      case 'constant':
        return constant(node.value);
      case 'not': {
        const operand = compile(node.operand);
        return (properties) => {
          const truth = operand(properties);
          return truth === null ? null : !truth;
        };
      }
      case 'and':
        return all(node.operands.map(compile));
      case 'or':
        return any(node.operands.map(compile));
      case 'compare':
        return compare(node);
      case 'between': {
        const x = numeric(node.value, 'BETWEEN');
        const low = numeric(node.low, 'BETWEEN');
        const high = numeric(node.high, 'BETWEEN');
        return node.negated
          ? any([compareNumbers(x, '<', low), compareNumbers(x, '>', high)])
          : all([compareNumbers(x, '>=', low), compareNumbers(x, '<=', high)]);
      }
      case 'in': {
        const value = node.value;
        const items = new Set(node.items);
        const negate = node.negated;
        if (value.kind === 'string') return constant(items.has(value.value) !== negate);
        if (value.kind !== 'property') {
          const problem = `${describe(value)} cannot be used with IN`;
          return fail(problem, value.column, 'IN compares a property with string literals');
        }
        const name = value.name;
        return (properties) => {
          const a = lookup(properties, name);
          return a === undefined ? null : items.has(a) !== negate;
        };
      }
      case 'isNull': {
        const value = node.value;
        const negate = node.negated;
        if (value.kind !== 'property') return constant(negate);
        const name = value.name;
        return (properties) => (lookup(properties, name) === undefined) !== negate;
      }
    }
  };

  return compile(node);
}

function literalValue(value: ValueNode): string | number | boolean | undefined {
  return value.kind === 'property' ? undefined : value.value;
}

function constant(truth: boolean): CompiledCondition {
  return () => truth;
}

function all(operands: readonly CompiledCondition[]): CompiledCondition {
  return (properties) => {
    let unknown = false;
    for (const operand of operands) {
      const truth = operand(properties);
      if (truth === false) return false;
      if (truth === null) unknown = true;
    }
    return unknown ? null : true;
  };
}

function any(operands: readonly CompiledCondition[]): CompiledCondition {
  return (properties) => {
    let unknown = false;
    for (const operand of operands) {
      const truth = operand(properties);
      if (truth === true) return true;
      if (truth === null) unknown = true;
    }
    return unknown ? null : false;
  };
}
