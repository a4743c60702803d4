/**
 * `apogee topic delete <topic> [--cluster C]`: BrokerAdmin.DeleteTopic on every master of the
 * cluster (RocketMQ's `deleteTopic -c`). Removes the topic's metadata; its stored messages age out
 * by retention. Safe to run again: a broker without the topic reports "not there".
 */
import type { AdminTopic } from '@apogee/protocol';
import { validateTopicName } from '@apogee/routing';
import { checkName, clusterOption, expectPositionals, nameserverOf, type ParsedArgs } from '../cli-args';
import { fanOutToMasters } from '../broker-outcomes';
import type { Command, CommandContext, CommandOutput } from '../command';
import { deleteOn, nowhere } from './delete-outcome';
import { topicJson } from './topic-create.command';

export interface NameInput {
  readonly nameserver: string;
  readonly name: string;
  readonly cluster?: string;
}

/** `<operand> [--cluster C]` of a delete verb: the name, checked by `validate`. */
export function parseNameInput(args: ParsedArgs, env: CommandContext['env'], operand: string, validate: (name: string) => void): NameInput {
  const [name] = expectPositionals(args, [operand]) as [string];
  checkName(validate, name);
  const cluster = clusterOption(args);
  return { nameserver: nameserverOf(args, env), name, ...(cluster === undefined ? {} : { cluster }) };
}

export function parseTopicDelete(args: ParsedArgs, env: CommandContext['env'] = {}): NameInput {
  return parseNameInput(args, env, 'topic', validateTopicName);
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
