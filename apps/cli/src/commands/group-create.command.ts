/**
 * `apogee group create <group> [--fifo true|false] [--max-attempts N] [--broadcast true|false] [--cluster C]`:
 * BrokerAdmin.CreateGroup on every master of the cluster (RocketMQ's `updateSubGroup -c`).
 * Running it again is safe: a broker whose group has the asked settings reports "exists".
 */
import { status } from '@grpc/grpc-js';
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
import { fanOutToMasters } from '../broker-outcomes';
import type { BrokerOutcome, MasterBroker } from '../cluster-masters';
import type { Command, CommandContext, CommandOutput } from '../command';
import { isServiceError } from '../server-error';

export interface GroupCreateInput {
  readonly nameserver: string;
  readonly group: string;
  /** Undefined: the broker's default (false). */
  readonly fifo?: boolean;
  /** Undefined: the broker's default (17). */
  readonly maxAttempts?: number;
  /** Undefined: the broker's default (false, clustering). */
  readonly broadcast?: boolean;
  readonly cluster?: string;
}

export function parseGroupCreate(args: ParsedArgs, env: CommandContext['env'] = {}): GroupCreateInput {
  const [group] = expectPositionals(args, ['group']) as [string];
  checkName(validateGroupName, group);
  const fifo = booleanOption(args, 'fifo');
  const maxAttempts = integerOption(args, 'max-attempts', 1, Number.MAX_SAFE_INTEGER);
  const broadcast = booleanOption(args, 'broadcast');
  const cluster = clusterOption(args);
  return {
    nameserver: nameserverOf(args, env),
    group,
    ...(fifo === undefined ? {} : { fifo }),
    ...(maxAttempts === undefined ? {} : { maxAttempts }),
    ...(broadcast === undefined ? {} : { broadcast }),
    ...(cluster === undefined ? {} : { cluster }),
  };
}

async function createOn(admin: BrokerAdminClient, master: MasterBroker, input: GroupCreateInput): Promise<BrokerOutcome<AdminGroup>> {
  const request: AdminGroup = { name: input.group };
  if (input.fifo !== undefined) request.fifo = input.fifo;
  if (input.maxAttempts !== undefined) request.max_delivery_attempts = input.maxAttempts;
  if (input.broadcast !== undefined) request.broadcast = input.broadcast;
  try {
    const { group } = await admin.call('CreateGroup', request);
    return { ...master, result: 'created', value: group ?? request };
  } catch (err) {
    if (!isServiceError(err) || err.code !== status.ALREADY_EXISTS) throw err;
  }
  const { group = {} } = await admin.call('GetGroup', { name: input.group });
  const sameFifo = input.fifo === undefined || (group.fifo ?? false) === input.fifo;
  const sameAttempts = input.maxAttempts === undefined || group.max_delivery_attempts === input.maxAttempts;
  const sameBroadcast = input.broadcast === undefined || (group.broadcast ?? false) === input.broadcast;
  if (sameFifo && sameAttempts && sameBroadcast) return { ...master, result: 'exists', value: group };
  return {
    ...master,
    result: 'failed',
    value: group,
    error: {
      message:
        `group ${input.group} already exists with other settings: fifo ${group.fifo ?? false}, ` +
        `max attempts ${group.max_delivery_attempts ?? '?'}, broadcast ${group.broadcast ?? false}`,
      hint: 'Choose another name, or create it with the settings it has; the CLI does not change existing groups.',
      grpcStatus: 'ALREADY_EXISTS',
      apogeeCode: 'GROUP_EXISTS',
    },
  };
}

export function groupJson(group: AdminGroup): object {
  return {
    name: group.name,
    fifo: group.fifo ?? false,
    maxDeliveryAttempts: group.max_delivery_attempts,
    retryPolicy: group.retry_policy,
    broadcast: group.broadcast ?? false,
  };
}

function run(ctx: CommandContext): Promise<CommandOutput> {
  const input = parseGroupCreate(ctx.args, ctx.env);
  const settings =
    `fifo ${input.fifo ?? false}, max attempts ${input.maxAttempts ?? 'default'}` + (input.broadcast === true ? ', broadcast' : '');
  return fanOutToMasters(ctx, {
    nameserver: input.nameserver,
    cluster: input.cluster,
    what: `creating group ${input.group}`,
    heading: (cluster) => `Group ${input.group} (${settings}) in cluster ${cluster}:`,
    apply: (admin, master) => createOn(admin, master, input),
    valueJson: groupJson,
    json: { group: input.group },
  });
}

export const groupCreateCommand: Command = {
  noun: 'group',
  verb: 'create',
  operands: '<group>',
  summary: 'Create a consumer group on every master broker of a cluster',
  synopsis: '<group> [--fifo true|false] [--max-attempts N] [--broadcast true|false] [--cluster C]',
  options: {
    fifo: { type: 'string', value: 'true|false', description: 'deliver each message group in order (default false)' },
    'max-attempts': {
      type: 'string',
      value: 'N',
      description: "deliveries of a message, the first included, before it moves to %DLQ%<group> (broker's default 17)",
    },
    broadcast: {
      type: 'string',
      value: 'true|false',
      description: 'deliver every message to every client of the group, positions kept per client (default false)',
    },
    cluster: { type: 'string', value: 'C', description: 'the cluster whose masters get the group (default: the only cluster)' },
  },
  examples: [
    'apogee group create billing',
    'apogee group create orders-fifo --fifo true --max-attempts 5',
    'apogee group create cache-invalidation --broadcast true',
  ],
  notes: [
    'Safe to run again: a broker that already has the group with these settings reports "exists".',
    'Broadcast groups: each client (by client id) gets every message, starting at the end of each queue on its first receive; RocketMQ 5 clients need no setting of their own.',
    'Exit 0 when every master has the group, 1 when any broker failed, 2 for a bad command line.',
  ],
  run,
};
