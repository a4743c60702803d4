/**
 * `apogee group update <group> [--fifo true|false] [--max-attempts N] [--cluster C]`:
 * BrokerAdmin.UpdateGroup on every master of the cluster (RocketMQ's `updateSubGroup -c` on an
 * existing group). Only the given settings change.
 */
import type { AdminGroup, BrokerAdminClient } from '@apogee/protocol';
import { validateGroupName } from '@apogee/routing';
import {
  booleanOption,
  checkName,
  clusterOption,
  expectPositionals,
  integerOption,
  nameserverOf,
  type ParsedArgs,
} from '../cli-args';
import { UsageError } from '../cli-error';
import { fanOutToMasters } from '../broker-outcomes';
import { brokerTarget, type BrokerOutcome, type MasterBroker } from '../cluster-masters';
import type { Command, CommandContext, CommandOutput } from '../command';
import { callServer } from '../server-error';
import { groupJson } from './group-create.command';

export interface GroupUpdateInput {
  readonly nameserver: string;
  readonly group: string;
  readonly fifo?: boolean;
  readonly maxAttempts?: number;
  readonly cluster?: string;
}

export function parseGroupUpdate(args: ParsedArgs, env: CommandContext['env'] = {}): GroupUpdateInput {
  const [group] = expectPositionals(args, ['group']) as [string];
  checkName(validateGroupName, group);
  const fifo = booleanOption(args, 'fifo');
  const maxAttempts = integerOption(args, 'max-attempts', 1, Number.MAX_SAFE_INTEGER);
  if (fifo === undefined && maxAttempts === undefined) throw new UsageError('nothing to change; give --fifo true|false and/or --max-attempts N');
  const cluster = clusterOption(args);
  return {
    nameserver: nameserverOf(args, env),
    group,
    ...(fifo === undefined ? {} : { fifo }),
    ...(maxAttempts === undefined ? {} : { maxAttempts }),
    ...(cluster === undefined ? {} : { cluster }),
  };
}

export function groupUpdateRequest(input: GroupUpdateInput): AdminGroup {
  return {
    name: input.group,
    ...(input.fifo === undefined ? {} : { fifo: input.fifo }),
    ...(input.maxAttempts === undefined ? {} : { max_delivery_attempts: input.maxAttempts }),
  };
}

async function updateOn(admin: BrokerAdminClient, master: MasterBroker, input: GroupUpdateInput): Promise<BrokerOutcome<AdminGroup>> {
  const hints = { GROUP_NOT_FOUND: `This broker has no group ${input.group}: create it with \`apogee group create ${input.group}\` (it goes to every master).` };
  const { group } = await callServer(brokerTarget(master), () => admin.call('UpdateGroup', groupUpdateRequest(input)), hints);
  return { ...master, result: 'updated', value: group ?? groupUpdateRequest(input) };
}

function run(ctx: CommandContext): Promise<CommandOutput> {
  const input = parseGroupUpdate(ctx.args, ctx.env);
  const change = [input.fifo === undefined ? '' : `fifo ${input.fifo}`, input.maxAttempts === undefined ? '' : `max attempts ${input.maxAttempts}`]
    .filter(Boolean)
    .join(', ');
  return fanOutToMasters(ctx, {
    nameserver: input.nameserver,
    cluster: input.cluster,
    what: `updating group ${input.group}`,
    heading: (cluster) => `Group ${input.group} (${change}) in cluster ${cluster}:`,
    apply: (admin, master) => updateOn(admin, master, input),
    valueJson: groupJson,
    json: { group: input.group, fifo: input.fifo ?? null, maxAttempts: input.maxAttempts ?? null },
  });
}

export const groupUpdateCommand: Command = {
  noun: 'group',
  verb: 'update',
  operands: '<group>',
  summary: "Change a consumer group's settings on every master broker of a cluster",
  synopsis: '<group> [--fifo true|false] [--max-attempts N] [--cluster C]',
  options: {
    fifo: { type: 'string', value: 'true|false', description: 'deliver each message group in order' },
    'max-attempts': { type: 'string', value: 'N', description: 'deliveries of a message, the first included, before it moves to %DLQ%<group>' },
    cluster: { type: 'string', value: 'C', description: 'the cluster whose masters change (default: the only cluster)' },
  },
  examples: ['apogee group update billing --max-attempts 5', 'apogee group update orders-fifo --fifo true --json'],
  notes: [
    'Only the given settings change; connected consumers see them on their next receive.',
    'Exit 0 when every master changed, 1 when any broker failed (e.g. has no such group), 2 for a bad command line.',
  ],
  run,
};
