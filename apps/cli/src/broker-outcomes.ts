/** Output of the writes that fan out to every master (topic create, group create): one row per broker. */
import type { BrokerOutcome } from './cluster-masters';
import { EXIT_FAILURE, EXIT_OK, type ExitCode } from './cli-error';
import { formatTable } from './table';

const RESULT_TEXT = { created: 'created', exists: 'exists (same settings)', failed: 'FAILED' } as const;

/** 0 when every broker has the object now (created or already there), else 1. */
export function exitCodeOf(outcomes: readonly BrokerOutcome<unknown>[]): ExitCode {
  return outcomes.every((o) => o.result !== 'failed') ? EXIT_OK : EXIT_FAILURE;
}

/** The per-broker table, then each failure's message and hint. */
export function renderOutcomes(outcomes: readonly BrokerOutcome<unknown>[]): string {
  const table = formatTable(
    ['broker', 'address', 'result'],
    outcomes.map((o) => [o.brokerName, o.address || '-', RESULT_TEXT[o.result]]),
  );
  const failures = outcomes
    .filter((o) => o.error !== undefined)
    .map((o) => `${o.brokerName}: ${o.error?.message}\n${o.error?.hint ? `  hint: ${o.error.hint}\n` : ''}`);
  return failures.length === 0 ? table : `${table}\n${failures.join('')}`;
}

/** A one-line summary for stderr when some brokers failed. */
export function failureSummary(what: string, outcomes: readonly BrokerOutcome<unknown>[]): string | undefined {
  const failed = outcomes.filter((o) => o.result === 'failed').length;
  return failed === 0 ? undefined : `${what} failed on ${failed} of ${outcomes.length} broker${outcomes.length === 1 ? '' : 's'}`;
}

/** The outcomes as --json reports them. */
export function outcomesJson<T, J>(outcomes: readonly BrokerOutcome<T>[], valueJson: (value: T) => J): object[] {
  return outcomes.map((o) => ({
    brokerName: o.brokerName,
    address: o.address || null,
    result: o.result,
    ...(o.value === undefined ? {} : { value: valueJson(o.value) }),
    ...(o.error === undefined ? {} : { error: o.error }),
  }));
}
