/**
 * Writes that go to "the cluster" (topic create, group create) go to every master broker of it,
 * as mqadmin's `updateTopic -c` does: the nameserver's cluster info says which brokers those are.
 * Each broker is called in parallel with its own client and reports its own outcome; a broker
 * group without a live master is reported as not done, so that the command can be run again
 * once the master is back.
 */
import { MASTER_ID, type ClusterInfo, type TopicRoute } from '@apogee/routing';
import type { BrokerAdminClient } from '@apogee/protocol';
import { CliError, UsageError, type Failure } from './cli-error';
import { progressOf, type CommandContext } from './command';
import { describeFailure, ServerError } from './server-error';

export interface MasterBroker {
  readonly brokerName: string;
  readonly address: string;
}

export interface ClusterMasters {
  readonly clusterName: string;
  readonly masters: readonly MasterBroker[];
  /** Broker groups of the cluster that have no live master now. */
  readonly withoutMaster: readonly string[];
}

/** The masters of `cluster`, or of the only cluster when none is named. */
export function mastersOf(info: ClusterInfo, nameserver: string, cluster?: string): ClusterMasters {
  const names = info.clusters.map((c) => c.clusterName);
  if (names.length === 0) {
    throw new CliError(
      `no broker is registered with the nameserver at ${nameserver}`,
      'Start a broker that registers with this nameserver (`npm start` runs a local cluster), then run the command again.',
    );
  }
  if (cluster === undefined && names.length > 1) {
    throw new UsageError(`the nameserver knows several clusters (${names.join(', ')}); choose one with --cluster`);
  }
  const clusterName = cluster ?? (names[0] as string);
  const entry = info.clusters.find((c) => c.clusterName === clusterName);
  if (entry === undefined) {
    throw new CliError(
      `cluster ${JSON.stringify(clusterName)} is unknown to the nameserver at ${nameserver}; known: ${names.join(', ')}`,
      'Pass one of the known clusters with --cluster (`apogee cluster status` lists them).',
    );
  }
  const masters: MasterBroker[] = [];
  const withoutMaster: string[] = [];
  for (const group of info.brokers.filter((g) => entry.brokerNames.includes(g.brokerName))) {
    const master = group.replicas.find((r) => r.brokerId === MASTER_ID);
    if (master) masters.push({ brokerName: group.brokerName, address: master.address });
    else withoutMaster.push(group.brokerName);
  }
  return { clusterName, masters, withoutMaster };
}

/**
 * 'reset': a group's offsets were moved (group reset-offset); 'read': a query answered (group
 * progress); 'absent': a delete found nothing to delete there.
 */
export type OutcomeResult = 'created' | 'exists' | 'updated' | 'deleted' | 'absent' | 'reset' | 'read' | 'failed';

/** What happened on one broker. */
export interface BrokerOutcome<T> {
  readonly brokerName: string;
  /** Empty for a broker group without a live master. */
  readonly address: string;
  readonly result: OutcomeResult;
  /** The object as the broker stored it (created or already there). */
  readonly value?: T;
  readonly error?: Failure;
}

/** The master as the target of a server call (callServer, describeFailure). */
export function brokerTarget(master: MasterBroker): { readonly kind: 'broker'; readonly address: string; readonly name: string } {
  return { kind: 'broker', address: master.address, name: master.brokerName };
}

/**
 * Calls `apply` on every master in parallel; a throw becomes that broker's failed outcome. With
 * `progressLabel`, a progress bar (on a TTY) ticks as each broker answers.
 */
export async function applyOnMasters<T>(
  ctx: CommandContext,
  cluster: ClusterMasters,
  apply: (admin: BrokerAdminClient, master: MasterBroker) => Promise<BrokerOutcome<T>>,
  progressLabel?: string,
): Promise<BrokerOutcome<T>[]> {
  const progress = progressLabel === undefined ? undefined : progressOf(ctx, progressLabel, cluster.masters.length);
  const onMaster = async (master: MasterBroker): Promise<BrokerOutcome<T>> => {
    const admin = ctx.deps.brokerAdminClient(master.address);
    try {
      return await apply(admin, master);
    } catch (err) {
      const error = err instanceof ServerError ? err.describe() : describeFailure(err, brokerTarget(master));
      return { ...master, result: 'failed', error };
    } finally {
      admin.close();
    }
  };
  const done = await Promise.all(
    cluster.masters.map(async (master) => {
      const outcome = await onMaster(master);
      progress?.tick(outcome.brokerName);
      return outcome;
    }),
  ).finally(() => progress?.done());
  const skipped = cluster.withoutMaster.map(
    (brokerName): BrokerOutcome<T> => ({
      brokerName,
      address: '',
      result: 'failed',
      error: {
        message: `broker group ${brokerName} has no live master`,
        hint: 'Run the command again once its master is back; brokers that already have it report "exists".',
      },
    }),
  );
  return [...done, ...skipped].sort((a, b) => (a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0));
}

/** The master of every broker group in the route; groups whose master is gone are reported, not skipped. */
export function routeMasters(route: TopicRoute): ClusterMasters {
  const masters = route.brokers.filter((b) => b.brokerId === MASTER_ID).map((b) => ({ brokerName: b.brokerName, address: b.address }));
  const served = [...new Set(route.queues.map((q) => q.brokerName))];
  const withoutMaster = served.filter((name) => !masters.some((m) => m.brokerName === name));
  return { clusterName: '', masters, withoutMaster };
}
