/**
 * `apogee group list [--cluster C]`: the consumer groups of every master of the cluster
 * (BrokerAdmin.ListGroups), one row per group and settings, with the brokers that have it. A group
 * whose settings differ between brokers gets a row per variant, so the difference shows.
 */
import { brokerOutcomeJson } from '../broker-outcomes';
import type { AdminGroup, BrokerAdminClient } from '@apogee/protocol';
import { isSystemGroup } from '@apogee/routing';
import { clusterOption, expectPositionals, nameserverOf, type ParsedArgs } from '../cli-args';
import { EXIT_FAILURE, EXIT_OK } from '../cli-error';
import { applyOnMasters, brokerTarget, mastersOf, type BrokerOutcome, type MasterBroker } from '../cluster-masters';
import { withNameServer, type Command, type CommandContext, type CommandOutput } from '../command';
import { callServer } from '../server-error';
import { formatTable } from '../table';
import { groupJson } from './group-create.command';

export interface GroupListInput {
  readonly nameserver: string;
  readonly cluster?: string;
}

export function parseGroupList(args: ParsedArgs, env: CommandContext['env'] = {}): GroupListInput {
  expectPositionals(args, []);
  const cluster = clusterOption(args);
  return { nameserver: nameserverOf(args, env), ...(cluster === undefined ? {} : { cluster }) };
}

/** One group with one set of settings, and the brokers that have it so. */
export interface GroupListRow {
  readonly name: string;
  readonly fifo: boolean;
  readonly maxDeliveryAttempts: number;
  readonly broadcast: boolean;
  readonly system: boolean;
  readonly brokers: string[];
}

export function groupRows(outcomes: readonly BrokerOutcome<AdminGroup[]>[]): GroupListRow[] {
  const rows = new Map<string, GroupListRow>();
  for (const o of outcomes) {
    for (const g of o.value ?? []) {
      const name = g.name ?? '';
      const row = { name, fifo: g.fifo ?? false, maxDeliveryAttempts: g.max_delivery_attempts ?? 0, broadcast: g.broadcast ?? false };
      const key = JSON.stringify(row);
      const known = rows.get(key);
      if (known) known.brokers.push(o.brokerName);
      else rows.set(key, { ...row, system: isSystemGroup(name), brokers: [o.brokerName] });
    }
  }
  return [...rows.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function renderGroupList(clusterName: string, outcomes: readonly BrokerOutcome<AdminGroup[]>[]): string {
  const rows = groupRows(outcomes);
  const answered = outcomes.filter((o) => o.value !== undefined).length;
  const lines = [`Consumer groups in cluster ${clusterName} (${answered} of ${outcomes.length} master${outcomes.length === 1 ? '' : 's'} answered):`];
  if (rows.length === 0) lines.push('No groups yet; create one with `apogee group create <group>`.');
  else {
    const table = rows.map((r) => [
      r.name,
      r.fifo ? 'yes' : 'no',
      String(r.maxDeliveryAttempts),
      r.broadcast ? 'yes' : 'no',
      r.brokers.length === answered ? `all (${r.brokers.length})` : r.brokers.join(','),
    ]);
    lines.push(formatTable(['group', 'fifo', 'max-attempts', 'broadcast', 'brokers'], table).trimEnd());
  }
  const split = new Set(rows.map((r) => r.name).filter((name, i, all) => all.indexOf(name) !== i));
  if (split.size > 0) {
    lines.push(`Settings differ between brokers for: ${[...split].join(', ')}; \`apogee group update <group> ...\` makes them equal.`);
  }
  const missing = rows.filter((r) => !r.system && r.brokers.length < answered && !split.has(r.name)).map((r) => r.name);
  if (missing.length > 0) lines.push(`On some brokers only: ${missing.join(', ')}; \`apogee group create <group>\` adds them to the rest.`);
  for (const o of outcomes) {
    if (o.error !== undefined) lines.push(`${o.brokerName}: ${o.error.message}${o.error.hint ? `\n  hint: ${o.error.hint}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

async function listOn(admin: BrokerAdminClient, master: MasterBroker): Promise<BrokerOutcome<AdminGroup[]>> {
  const { groups = [] } = await callServer(brokerTarget(master), () => admin.call('ListGroups', {}));
  return { ...master, result: 'read', value: groups };
}

async function run(ctx: CommandContext): Promise<CommandOutput> {
  const input = parseGroupList(ctx.args, ctx.env);
  const target = { kind: 'nameserver', address: input.nameserver } as const;
  const info = await withNameServer(ctx, input.nameserver, (ns) => callServer(target, () => ns.clusterInfo()));
  const cluster = mastersOf(info, input.nameserver, input.cluster);
  const outcomes = await applyOnMasters(ctx, cluster, listOn, 'listing groups');
  const failed = outcomes.filter((o) => o.result === 'failed').length;
  return {
    text: renderGroupList(cluster.clusterName, outcomes),
    json: {
      cluster: cluster.clusterName,
      ok: failed === 0,
      groups: groupRows(outcomes),
      brokers: outcomes.map((o) => brokerOutcomeJson(o, (value) => ({ groups: value.map(groupJson) }))),
    },
    exitCode: failed === 0 ? EXIT_OK : EXIT_FAILURE,
    ...(failed === 0 ? {} : { warning: `listing groups failed on ${failed} of ${outcomes.length} broker${outcomes.length === 1 ? '' : 's'}` }),
  };
}

export const groupListCommand: Command = {
  noun: 'group',
  verb: 'list',
  operands: '',
  summary: 'List the consumer groups of every master broker of a cluster, with their settings',
  synopsis: '[--cluster C]',
  options: {
    cluster: { type: 'string', value: 'C', description: 'the cluster whose masters are asked (default: the only cluster)' },
  },
  examples: ['apogee group list', 'apogee group list --cluster DefaultCluster --json'],
  notes: [
    'BROKERS: "all (n)" when every master that answered has the group with these settings, else the brokers that do.',
    'Exit 0 when every master answered, 1 when any failed, 2 for a bad command line.',
  ],
  run,
};
