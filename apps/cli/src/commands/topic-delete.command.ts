/**
 * `apogee topic delete <topic> [--cluster C]`: BrokerAdmin.DeleteTopic on every master of the
 * cluster (RocketMQ's `deleteTopic -c`). Removes the topic's metadata; its stored messages age out
 * by retention. Safe to run again: a broker without the topic reports "not there".
 */
import type { AdminTopic } from '@apogee/protocol';
import { validateClusterName, validateTopicName } from '@apogee/routing';
import { checkName, expectPositionals, nameserverOf, stringOption, type ParsedArgs } from '../cli-args';
import { fanOutToMasters } from '../broker-outcomes';
import type { Command, CommandContext, CommandOutput } from '../command';
import { deleteOn, nowhere } from './delete-outcome';
import { topicJson } from './topic-create.command';

export interface NameInput {
  readonly nameserver: string;
  readonly name: string;
  readonly cluster?: string;
}

export function parseTopicDelete(args: ParsedArgs, env: CommandContext['env'] = {}): NameInput {
  const [name] = expectPositionals(args, ['topic']) as [string];
  checkName(validateTopicName, name);
  const cluster = stringOption(args, 'cluster');
  if (cluster !== undefined) checkName(validateClusterName, cluster);
  return { nameserver: nameserverOf(args, env), name, ...(cluster === undefined ? {} : { cluster }) };
}

function run(ctx: CommandContext): Promise<CommandOutput> {
  const input = parseTopicDelete(ctx.args, ctx.env);
  return fanOutToMasters<AdminTopic, object>(ctx, {
    nameserver: input.nameserver,
    cluster: input.cluster,
    what: `deleting topic ${input.name}`,
    heading: (cluster) => `Topic ${input.name} in cluster ${cluster}:`,
    apply: (admin, master) => deleteOn(master, async () => (await admin.call('DeleteTopic', { name: input.name })).topic),
    valueJson: topicJson,
    json: { topic: input.name },
    overall: nowhere('topic', input.name, 'apogee topic list'),
  });
}

export const topicDeleteCommand: Command = {
  noun: 'topic',
  verb: 'delete',
  operands: '<topic>',
  summary: 'Delete a topic from every master broker of a cluster',
  synopsis: '<topic> [--cluster C]',
  options: {
    cluster: { type: 'string', value: 'C', description: 'the cluster whose masters drop the topic (default: the only cluster)' },
  },
  examples: ['apogee topic delete orders-old', 'apogee topic delete orders-old --cluster DefaultCluster --json'],
  notes: [
    "Removes the topic's metadata: producers and consumers get TOPIC_NOT_FOUND; stored messages age out by retention.",
    'Safe to run again: a broker without the topic reports "not there". Exit 1 when no broker had it or any broker failed.',
  ],
  run,
};
