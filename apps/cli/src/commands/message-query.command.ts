/**
 * `apogee message query --topic T --key K [--from ISO] [--to ISO] [--limit N]`: messages by key,
 * as RocketMQ's `queryMsgByKey`, answered by the index-service (apogee.index.v1.MessageIndex
 * QueryByKey): newest first, whole messages read from their brokers.
 */
import type { IndexFoundMessage } from '@apogee/protocol';
import { validateTopicName } from '@apogee/routing';
import { checkName, expectPositionals, integerOption, stringOption, type ParsedArgs } from '../cli-args';
import { EXIT_OK, UsageError } from '../cli-error';
import type { Command, CommandContext, CommandOutput } from '../command';
import { callServer } from '../server-error';
import { indexHints, indexOf, indexTarget, INDEX_OPTION, messageJson, renderMessage } from './message-format';

export const MAX_QUERY_LIMIT = 1000;

export interface MessageQueryInput {
  readonly index: string;
  readonly topic: string;
  readonly key: string;
  readonly fromMs?: number;
  readonly toMs?: number;
  readonly limit: number;
}

function timeOption(args: ParsedArgs, name: string): number | undefined {
  const raw = stringOption(args, name);
  if (raw === undefined) return undefined;
  const ms = Date.parse(raw);
  if (!Number.isFinite(ms) || ms < 0) throw new UsageError(`--${name} ${JSON.stringify(raw)} is not a date; use ISO 8601, e.g. 2026-11-27T21:00:00Z`);
  return ms;
}

export function parseMessageQuery(args: ParsedArgs, env: CommandContext['env'] = {}): MessageQueryInput {
  expectPositionals(args, []);
  const topic = stringOption(args, 'topic');
  if (topic === undefined) throw new UsageError('missing --topic');
  checkName((name) => validateTopicName(name, { allowReserved: true }), topic);
  const key = stringOption(args, 'key');
  if (!key) throw new UsageError('missing --key');
  const fromMs = timeOption(args, 'from');
  const toMs = timeOption(args, 'to');
  if (fromMs !== undefined && toMs !== undefined && fromMs > toMs) throw new UsageError('--from is after --to');
  return {
    index: indexOf(args, env),
    topic,
    key,
    ...(fromMs === undefined ? {} : { fromMs }),
    ...(toMs === undefined ? {} : { toMs }),
    limit: integerOption(args, 'limit', 1, MAX_QUERY_LIMIT) ?? 32,
  };
}

export function renderMessageQuery(input: MessageQueryInput, messages: readonly IndexFoundMessage[], more: boolean): string {
  if (messages.length === 0) {
    return `No message of topic ${input.topic} has key ${JSON.stringify(input.key)}${input.fromMs !== undefined || input.toMs !== undefined ? ' in that time range' : ''}.\n`;
  }
  const head = `${messages.length} message${messages.length === 1 ? '' : 's'} of topic ${input.topic} with key ${JSON.stringify(input.key)}, newest first:`;
  const tail = more ? [`More match: raise --limit (up to ${MAX_QUERY_LIMIT}) or narrow --from/--to.`] : [];
  return `${[head, ...messages.map((m) => renderMessage(m).trimEnd()), ...tail].join('\n\n')}\n`;
}

async function run(ctx: CommandContext): Promise<CommandOutput> {
  const input = parseMessageQuery(ctx.args, ctx.env);
  const client = ctx.deps.messageIndexClient(input.index);
  try {
    const request = { topic: input.topic, key: input.key, from_ms: input.fromMs ?? 0, to_ms: input.toMs ?? 0, limit: input.limit };
    const answer = await callServer(indexTarget(input.index), () => client.queryByKey(request), indexHints(input.index));
    const messages = answer.messages ?? [];
    const more = Boolean(answer.next_cursor);
    return {
      text: renderMessageQuery(input, messages, more),
      json: { topic: input.topic, key: input.key, more, messages: messages.map(messageJson) },
      exitCode: EXIT_OK,
    };
  } finally {
    client.close();
  }
}

export const messageQueryCommand: Command = {
  noun: 'message',
  verb: 'query',
  operands: '',
  summary: 'Find messages by key (newest first), through the index-service',
  synopsis: '--topic T --key K [--from ISO] [--to ISO] [--limit N] [--index HOST:PORT]',
  options: {
    topic: { type: 'string', value: 'T', description: 'the topic the messages were sent to' },
    key: { type: 'string', value: 'K', description: 'a message key (the producer set it with keys)' },
    from: { type: 'string', value: 'ISO', description: 'only messages stored at or after this time (ISO 8601)' },
    to: { type: 'string', value: 'ISO', description: 'only messages stored at or before this time (ISO 8601)' },
    limit: { type: 'string', value: 'N', description: `at most N messages (default 32, at most ${MAX_QUERY_LIMIT})` },
    index: INDEX_OPTION,
  },
  examples: ['apogee message query --topic orders --key order-42', 'apogee message query --topic orders --key order-42 --from 2026-11-27T00:00:00Z --json'],
  notes: [
    'Bodies print as text when they are printable UTF-8, else as base64.',
    'An unknown key prints an empty result and exits 0; exit 1 when the index-service or a broker holding matches fails, 2 for a bad command line.',
  ],
  run,
};
