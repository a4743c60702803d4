/**
 * `apogee message send --topic T --body TEXT [--tag X] [--keys a,b] [--message-group G]
 * [--endpoint HOST:PORT]`: a quick test send through the official RocketMQ 5 client's Producer, as
 * an application sends (route, then SendMessage to the topic's broker); prints the message id.
 */
import { status } from '@grpc/grpc-js';
import { parseBrokerAddress, validateTopicName } from '@apogee/routing';
import { checkName, expectPositionals, stringOption, type ParsedArgs } from '../cli-args';
import { CliError, EXIT_OK, UsageError } from '../cli-error';
import type { Command, CommandContext, CommandOutput, SendReceiptView } from '../command';
import { isServiceError } from '../server-error';

export const DEFAULT_ENDPOINT = '127.0.0.1:8081';
export const ENDPOINT_ENV = 'APOGEE_ENDPOINT';

export const ENDPOINT_OPTION = {
  type: 'string',
  value: 'HOST:PORT',
  description: `a broker's client (gRPC) endpoint (default ${DEFAULT_ENDPOINT}, or $${ENDPOINT_ENV})`,
} as const;

export interface MessageSendInput {
  readonly endpoint: string;
  readonly topic: string;
  readonly body: string;
  readonly tag?: string;
  readonly keys?: readonly string[];
  readonly messageGroup?: string;
}

/** --endpoint, else $APOGEE_ENDPOINT, else the local broker's; checked as host:port. */
export function endpointOf(args: ParsedArgs, env: CommandContext['env'] = {}): string {
  const given = stringOption(args, 'endpoint');
  const address = given ?? (env[ENDPOINT_ENV] || DEFAULT_ENDPOINT);
  try {
    parseBrokerAddress(address);
  } catch {
    throw new UsageError(`${given === undefined ? `$${ENDPOINT_ENV}` : '--endpoint'} ${JSON.stringify(address)} is not HOST:PORT`);
  }
  return address;
}

export function parseMessageSend(args: ParsedArgs, env: CommandContext['env'] = {}): MessageSendInput {
  expectPositionals(args, []);
  const topic = stringOption(args, 'topic');
  if (topic === undefined) throw new UsageError('missing --topic T');
  checkName(validateTopicName, topic);
  const body = stringOption(args, 'body');
  if (body === undefined) throw new UsageError('missing --body TEXT');
  const tag = stringOption(args, 'tag');
  if (tag !== undefined && (tag === '' || /[|\s]/.test(tag) || tag === '*')) {
    throw new UsageError(`--tag ${JSON.stringify(tag)} is invalid; a tag is one word without '|' and not '*'`);
  }
  const keysRaw = stringOption(args, 'keys');
  const keys = keysRaw?.split(',').map((k) => k.trim()).filter((k) => k !== '');
  if (keysRaw !== undefined && keys?.length === 0) throw new UsageError(`--keys ${JSON.stringify(keysRaw)} has no key; give a,b`);
  const messageGroup = stringOption(args, 'message-group');
  if (messageGroup !== undefined && messageGroup.trim() === '') throw new UsageError('--message-group is empty');
  return {
    endpoint: endpointOf(args, env),
    topic,
    body,
    ...(tag === undefined ? {} : { tag }),
    ...(keys === undefined ? {} : { keys }),
    ...(messageGroup === undefined ? {} : { messageGroup }),
  };
}

/** What the broker at the endpoint says about the topic, after a failed send: the likeliest cause. */
export type EndpointDiagnosis = 'unreachable' | 'no-topic' | 'topic-ok' | 'unknown';

async function diagnose(ctx: CommandContext, input: MessageSendInput): Promise<EndpointDiagnosis> {
  const admin = ctx.deps.brokerAdminClient(input.endpoint);
  try {
    await admin.call('GetTopic', { name: input.topic }, { timeoutMs: 2_000 });
    return 'topic-ok';
  } catch (err) {
    if (!isServiceError(err)) return 'unknown';
    if (err.code === status.UNAVAILABLE || err.code === status.DEADLINE_EXCEEDED) return 'unreachable';
    return err.code === status.NOT_FOUND ? 'no-topic' : 'unknown';
  } finally {
    admin.close();
  }
}

/** What the official client failed with, and what to do. */
export function sendFailure(err: unknown, input: MessageSendInput, diagnosis: EndpointDiagnosis = 'unknown'): CliError {
  const message = err instanceof Error ? err.message : String(err);
  const text = message.toLowerCase();
  if (diagnosis === 'unreachable') {
    return new CliError(
      `sending to topic ${input.topic} failed: no broker answers at ${input.endpoint} (${message})`,
      `Check that a broker runs at ${input.endpoint}, or pass --endpoint HOST:PORT (a broker's gRPC port, default 8081).`,
    );
  }
  if (diagnosis === 'no-topic') {
    return new CliError(
      `sending to topic ${input.topic} failed: the broker at ${input.endpoint} has no topic ${input.topic}`,
      `Create the topic first: \`apogee topic create ${input.topic} --type NORMAL\` (\`apogee topic route ${input.topic}\` shows who serves it).`,
    );
  }
  let hint = `Check the broker's log; \`apogee topic route ${input.topic}\` shows which brokers serve the topic.`;
  if (/topic.*(not.?found|not exist|does not exist)|not_found|no route/.test(text)) {
    hint = `Create the topic first: \`apogee topic create ${input.topic} --type NORMAL\`.`;
  } else if (/message.?group|fifo|message type|mismatch|messagetype/.test(text)) {
    hint = `The topic's type needs other fields: a FIFO topic needs --message-group G; \`apogee topic route ${input.topic}\` shows its type.`;
  } else if (/unavailable|econnrefused|connect|deadline|timeout|timed out/.test(text)) {
    hint = `Check that a broker runs at ${input.endpoint}, or pass --endpoint HOST:PORT (a broker's gRPC port, default 8081).`;
  }
  return new CliError(`sending to topic ${input.topic} through ${input.endpoint} failed: ${message}`, hint);
}

export function renderSend(input: MessageSendInput, receipt: SendReceiptView): string {
  const where = [receipt.brokerName, receipt.queueId === undefined ? undefined : `queue ${receipt.queueId}`, receipt.offset === undefined ? undefined : `offset ${receipt.offset}`]
    .filter((part) => part !== undefined)
    .join(', ');
  return `Sent to topic ${input.topic}${where ? ` (${where})` : ''}\nmessage id: ${receipt.messageId}\n`;
}

async function run(ctx: CommandContext): Promise<CommandOutput> {
  const input = parseMessageSend(ctx.args, ctx.env);
  // A broker that does not answer fails fast here instead of after the client's route retries.
  // (A topic the broker lacks is not refused here: it may auto-create it, or route to another broker.)
  if ((await diagnose(ctx, input)) === 'unreachable') throw sendFailure(new Error('no answer to GetTopic'), input, 'unreachable');
  let receipt: SendReceiptView;
  try {
    const producer = await ctx.deps.startProducer(input.endpoint, input.topic);
    try {
      receipt = await producer.send({
        topic: input.topic,
        body: Buffer.from(input.body, 'utf8'),
        ...(input.tag === undefined ? {} : { tag: input.tag }),
        ...(input.keys === undefined ? {} : { keys: input.keys }),
        ...(input.messageGroup === undefined ? {} : { messageGroup: input.messageGroup }),
      });
    } finally {
      await producer.shutdown().catch(() => undefined);
    }
  } catch (err) {
    throw sendFailure(err, input, await diagnose(ctx, input));
  }
  return {
    text: renderSend(input, receipt),
    json: {
      topic: input.topic,
      messageId: receipt.messageId,
      tag: input.tag ?? null,
      keys: input.keys ?? [],
      brokerName: receipt.brokerName ?? null,
      queueId: receipt.queueId ?? null,
      offset: receipt.offset ?? null,
    },
    exitCode: EXIT_OK,
  };
}

export const messageSendCommand: Command = {
  noun: 'message',
  verb: 'send',
  operands: '',
  summary: 'Send one test message through the official RocketMQ client and print its message id',
  synopsis: '--topic T --body TEXT [--tag X] [--keys a,b] [--message-group G] [--endpoint HOST:PORT]',
  options: {
    topic: { type: 'string', value: 'T', description: 'the topic to send to (required)' },
    body: { type: 'string', value: 'TEXT', description: 'the message body, sent as UTF-8 (required)' },
    tag: { type: 'string', value: 'X', description: 'the message tag consumers filter on' },
    keys: { type: 'string', value: 'a,b', description: 'message keys, comma-separated (`apogee message query --key` finds them)' },
    'message-group': { type: 'string', value: 'G', description: 'the message group: required by FIFO topics' },
    endpoint: ENDPOINT_OPTION,
  },
  examples: [
    'apogee message send --topic orders --tag created --keys order-1 --body "hello"',
    'apogee message send --topic orders-fifo --message-group customer-7 --body "{}" --endpoint 10.0.0.5:8081 --json',
  ],
  notes: [
    'The topic must exist and accept NORMAL messages (FIFO: with --message-group). Exit 0 once the broker stored it, 1 when the send failed.',
  ],
  run,
};
