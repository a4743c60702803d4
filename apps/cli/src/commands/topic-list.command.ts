/** `apogee topic list`: every topic a live broker serves, as the nameserver knows them (system topics too). */
import { isDeadLetterTopic, isRetryTopic, isSystemTopic } from '@apogee/routing';
import { expectPositionals, nameserverOf, type ParsedArgs } from '../cli-args';
import { EXIT_OK } from '../cli-error';
import { withNameServer, type Command, type CommandContext, type CommandOutput } from '../command';
import { callServer } from '../server-error';
import { formatTable } from '../table';

export type TopicKind = 'topic' | 'system' | 'retry' | 'dead-letter';

export function topicKind(name: string): TopicKind {
  if (isRetryTopic(name)) return 'retry';
  if (isDeadLetterTopic(name)) return 'dead-letter';
  return isSystemTopic(name) ? 'system' : 'topic';
}

export function parseTopicList(args: ParsedArgs, env: CommandContext['env'] = {}): { nameserver: string } {
  expectPositionals(args, []);
  return { nameserver: nameserverOf(args, env) };
}

export function renderTopicList(topics: readonly string[], nameserver: string): string {
  if (topics.length === 0) return `No topics: no live broker registered with the nameserver at ${nameserver} serves any.\n`;
  return formatTable(['topic', 'kind'], topics.map((name) => [name, topicKind(name)]));
}

async function run(ctx: CommandContext): Promise<CommandOutput> {
  const { nameserver } = parseTopicList(ctx.args, ctx.env);
  const target = { kind: 'nameserver', address: nameserver } as const;
  const topics = await withNameServer(ctx, nameserver, (ns) => callServer(target, () => ns.listTopics()));
  return { text: renderTopicList(topics, nameserver), json: { nameserver, topics }, exitCode: EXIT_OK };
}

export const topicListCommand: Command = {
  noun: 'topic',
  verb: 'list',
  operands: '',
  summary: 'List the topics that live brokers serve, as the nameserver knows them',
  synopsis: '',
  options: {},
  examples: ['apogee topic list', 'apogee topic list --nameserver 10.0.0.5:9876 --json'],
  notes: ['System, retry (%RETRY%<group>) and dead-letter (%DLQ%<group>) topics are listed too, marked in KIND.'],
  run,
};
