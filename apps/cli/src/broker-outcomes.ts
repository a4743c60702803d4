/** Output of the writes that fan out to every master (topic and group create, update, delete): one row per broker. */
import type { BrokerAdminClient } from '@apogee/protocol';
import { applyOnMasters, mastersOf, type BrokerOutcome, type MasterBroker } from './cluster-masters';
import { withNameServer, type CommandContext, type CommandOutput } from './command';
import { callServer } from './server-error';
import { EXIT_FAILURE, EXIT_OK, type ExitCode } from './cli-error';
import { formatTable } from './table';

const RESULT_TEXT = {
  created: 'created',
  exists: 'exists (same settings)',
  updated: 'updated',
  deleted: 'deleted',
  absent: 'not there (nothing to delete)',
  reset: 'reset',
  read: 'read',
  failed: 'FAILED',
} as const;

/** 0 when every broker has the object now (created or already there), else 1. */
function exitCodeOf(outcomes: readonly BrokerOutcome<unknown>[]): ExitCode {
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
function failureSummary(what: string, outcomes: readonly BrokerOutcome<unknown>[]): string | undefined {
  const failed = outcomes.filter((o) => o.result === 'failed').length;
  return failed === 0 ? undefined : `${what} failed on ${failed} of ${outcomes.length} broker${outcomes.length === 1 ? '' : 's'}`;
}

/** One broker's outcome as --json reports it: name, address, result, `fields` of its value, its error. */
export function brokerOutcomeJson<T>(o: BrokerOutcome<T>, fields: (value: T) => object): object {
  return {
    brokerName: o.brokerName,
    address: o.address || null,
    result: o.result,
    ...(o.value === undefined ? {} : fields(o.value)),
    ...(o.error === undefined ? {} : { error: o.error }),
  };
}

/** The outcomes as --json reports them. */
function outcomesJson<T, J>(outcomes: readonly BrokerOutcome<T>[], valueJson: (value: T) => J): object[] {
  return outcomes.map((o) => brokerOutcomeJson(o, (value) => ({ value: valueJson(value) })));
}

export interface FanOut<T, J> {
  readonly nameserver: string;
  readonly cluster?: string;
  /** What is being done, for the failure summary ("creating topic orders"). */
  readonly what: string;
  /** The first line of the text output, given the cluster's name. */
  readonly heading: (clusterName: string) => string;
  readonly apply: (admin: BrokerAdminClient, master: MasterBroker) => Promise<BrokerOutcome<T>>;
  readonly valueJson: (value: T) => J;
  /** Fields of the --json document besides cluster, ok and brokers. */
  readonly json: object;
  /** A failure of the whole (e.g. a delete that found the object nowhere): exit 1 with this warning. */
  readonly overall?: (outcomes: readonly BrokerOutcome<T>[]) => string | undefined;
}

/**
 * A write on every master broker of a cluster (topic create, group create): finds the masters
 * through the nameserver, applies `apply` on each, and reports one row per broker.
 */
export async function fanOutToMasters<T, J>(ctx: CommandContext, f: FanOut<T, J>): Promise<CommandOutput> {
  const target = { kind: 'nameserver', address: f.nameserver } as const;
  const info = await withNameServer(ctx, f.nameserver, (ns) => callServer(target, () => ns.clusterInfo()));
  const cluster = mastersOf(info, f.nameserver, f.cluster);
  const outcomes = await applyOnMasters(ctx, cluster, f.apply, f.what);
  const summary = failureSummary(f.what, outcomes) ?? f.overall?.(outcomes);
  return {
    text: `${f.heading(cluster.clusterName)}\n${renderOutcomes(outcomes)}`,
    json: { ...f.json, cluster: cluster.clusterName, ok: summary === undefined, brokers: outcomesJson(outcomes, f.valueJson) },
    exitCode: summary === undefined ? exitCodeOf(outcomes) : EXIT_FAILURE,
    ...(summary === undefined ? {} : { warning: summary }),
  };
}
