/**
 * `apogee group delete <group> [--cluster C]`: BrokerAdmin.DeleteGroup on every master of the
 * cluster (RocketMQ's `deleteSubGroup -c`). Safe to run again: a broker without the group
 * reports "not there".
 */
import type { AdminGroup } from '@apogee/protocol';
import { validateGroupName } from '@apogee/routing';
import type { ParsedArgs } from '../cli-args';
import { fanOutToMasters } from '../broker-outcomes';
import type { Command, CommandContext, CommandOutput } from '../command';
import { deleteOn, nowhere } from './delete-outcome';
import { groupJson } from './group-create.command';
import { parseNameInput, type NameInput } from './topic-delete.command';

export function parseGroupDelete(args: ParsedArgs, env: CommandContext['env'] = {}): NameInput {
  return parseNameInput(args, env, 'group', validateGroupName);
}

function run(ctx: CommandContext): Promise<CommandOutput> {
  const input = parseGroupDelete(ctx.args, ctx.env);
  return fanOutToMasters<AdminGroup, object>(ctx, {
    nameserver: input.nameserver,
    cluster: input.cluster,
    what: `deleting group ${input.name}`,
    heading: (cluster) => `Group ${input.name} in cluster ${cluster}:`,
    apply: (admin, master) => deleteOn(master, async () => (await admin.call('DeleteGroup', { name: input.name })).group),
    valueJson: groupJson,
    json: { group: input.name },
    overall: nowhere('group', input.name, 'apogee group list'),
  });
}

export const groupDeleteCommand: Command = {
  noun: 'group',
  verb: 'delete',
  operands: '<group>',
  summary: 'Delete a consumer group from every master broker of a cluster',
  synopsis: '<group> [--cluster C]',
  options: {
    cluster: { type: 'string', value: 'C', description: 'the cluster whose masters drop the group (default: the only cluster)' },
  },
  examples: ['apogee group delete billing-old', 'apogee group delete billing-old --json'],
  notes: [
    'Its consumers then get CONSUMER_GROUP_NOT_FOUND (unless the brokers auto-create groups).',
    'Safe to run again: a broker without the group reports "not there". Exit 1 when no broker had it or any broker failed.',
  ],
  run,
};
