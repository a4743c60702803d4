/**
 * Syntax tree of a SQL92 filter expression, as the parser builds it and the compiler reads it.
 * Conditions (true / false / unknown) and values (operands) are separate node families: there is
 * no arithmetic, so a value is always a property reference or a literal. AND / OR chains are
 * flattened to one n-ary node, so a long `a = 1 OR a = 2 OR …` chain does not nest deeply.
 * Every node carries the 1-based column it starts at, for error messages.
 */
import type { ComparisonOperator } from './lexer';

export type ValueNode =
  | { readonly kind: 'property'; readonly name: string; readonly column: number }
  | { readonly kind: 'string'; readonly value: string; readonly column: number }
  | { readonly kind: 'number'; readonly value: number; readonly column: number }
  | { readonly kind: 'boolean'; readonly value: boolean; readonly column: number };

export type ConditionNode =
  | { readonly kind: 'or' | 'and'; readonly operands: readonly ConditionNode[]; readonly column: number }
  | { readonly kind: 'not'; readonly operand: ConditionNode; readonly column: number }
  | {
      readonly kind: 'compare';
      readonly operator: ComparisonOperator;
      readonly left: ValueNode;
      readonly right: ValueNode;
      readonly column: number;
    }
  | {
      readonly kind: 'between';
      readonly negated: boolean;
      readonly value: ValueNode;
      readonly low: ValueNode;
      readonly high: ValueNode;
      readonly column: number;
    }
  | {
      readonly kind: 'in';
      readonly negated: boolean;
      readonly value: ValueNode;
      readonly items: readonly string[];
      readonly column: number;
    }
  | { readonly kind: 'isNull'; readonly negated: boolean; readonly value: ValueNode; readonly column: number }
  /** A bare TRUE or FALSE used as a condition. */
  | { readonly kind: 'constant'; readonly value: boolean; readonly column: number };
