/**
 * `apogee message get <messageId> [--topic T]`: a message by its id, as RocketMQ's
 * `queryMsgById`, answered by the index-service (apogee.index.v1.MessageIndex GetById). Normally
 * one message; a producer retry may have stored it twice.
 */
import type { IndexFoundMessage } from '@apogee/protocol';
import { validateTopicName } from '@apogee/routing';
import { checkName, expectPositionals, stringOption, type ParsedArgs } from '../cli-args';
import { EXIT_OK } from '../cli-error';
import type { Command, CommandContext, CommandOutput } from '../command';
import { callServer } from '../server-error';
import { indexHints, indexOf, indexTarget, INDEX_OPTION, messageJson, renderMessage } from './message-format';

export interface MessageGetInput {
  readonly index: string;
  readonly messageId: string;
  readonly topic?: string;
}

export function parseMessageGet(args: ParsedArgs, env: CommandContext['env'] = {}): MessageGetInput {
  const [messageId] = expectPositionals(args, ['messageId']) as [string];
  const topic = stringOption(args, 'topic');
  if (topic !== undefined) checkName((name) => validateTopicName(name, { allowReserved: true }), topic);
  return { index: indexOf(args, env), messageId, ...(topic === undefined ? {} : { topic }) };
}

export function renderMessageGet(input: MessageGetInput, messages: readonly IndexFoundMessage[]): string {
  if (messages.length === 0) {
    return `No message has id ${input.messageId}${input.topic === undefined ? '' : ` in topic ${input.topic}`} (unknown, not indexed yet, or deleted by retention).\n`;
  }
  const note = messages.length > 1 ? [`${messages.length} messages have this id (a producer retry stored it more than once).`] : [];
  return `${[...note, ...messages.map((m) => renderMessage(m).trimEnd())].join('\n\n')}\n`;
}

async function run(ctx: CommandContext): Promise<CommandOutput> {
  const input = parseMessageGet(ctx.args, ctx.env);
  const client = ctx.deps.messageIndexClient(input.index);
  try {
    const request = { message_id: input.messageId, ...(input.topic === undefined ? {} : { topic: input.topic }) };
    const answer = await callServer(indexTarget(input.index), () => client.getById(request), indexHints(input.index));
    const messages = answer.messages ?? [];
    return {
      text: renderMessageGet(input, messages),
      json: { messageId: input.messageId, messages: messages.map(messageJson) },
      exitCode: EXIT_OK,
    };
  } finally {
    client.close();
  }
}

export const messageGetCommand: Command = {
  noun: 'message',
  verb: 'get',
  operands: '<messageId>',
  summary: 'Show a message by its id, through the index-service',
  synopsis: '<messageId> [--topic T] [--index HOST:PORT]',
  options: {
    topic: { type: 'string', value: 'T', description: 'only in this topic' },
    index: INDEX_OPTION,
  },
  examples: ['apogee message get 01A2B3C4D5E6F7A8B9C0D1E2F3', 'apogee message get 01A2B3C4D5E6F7A8B9C0D1E2F3 --topic orders --json'],
  notes: [
    'Bodies print as text when they are printable UTF-8, else as base64.',
    'An unknown id prints that nothing was found and exits 0; exit 1 when the index-service or the broker fails, 2 for a bad command line.',
  ],
  run,
};
