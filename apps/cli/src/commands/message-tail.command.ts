/**
 * `apogee message tail <topic> [--tag X] [--count N]`: follows the new messages of a topic on
 * every broker that serves it and prints one line per message until Ctrl-C (or N messages).
 *
 * It reads, it does not consume: each master's commit log is followed from its current end
 * (BrokerAdmin.ReplicationStatus for the end, then BrokerDispatch.Follow, the stream the
 * index-service follows), entries of other topics skipped, and the bodies fetched with
 * GetMessages. No consumer group is created or moved, so no group's position or lag changes.
 */
import { status } from '@grpc/grpc-js';
import type { BrokerDispatchClient, WireDispatchBatch, WireDispatchEntry, WireStoredMessage } from '@apogee/protocol';
import { validateTopicName } from '@apogee/routing';
import { booleanFlag, checkName, expectPositionals, integerOption, nameserverOf, stringOption, type ParsedArgs } from '../cli-args';
import { CliError, EXIT_OK, UsageError } from '../cli-error';
import { brokerTarget, routeMasters, type MasterBroker } from '../cluster-masters';
import { progressOf, withNameServer, type Command, type CommandContext, type CommandOutput } from '../command';
import { callServer, isServiceError, ServerError } from '../server-error';
import { bodyText } from './message-format';

export interface MessageTailInput {
  readonly nameserver: string;
  readonly topic: string;
  readonly tag?: string;
  readonly count?: number;
  readonly json: boolean;
}

export function parseMessageTail(args: ParsedArgs, env: CommandContext['env'] = {}): MessageTailInput {
  const [topic] = expectPositionals(args, ['topic']) as [string];
  checkName((name) => validateTopicName(name, { allowReserved: true }), topic);
  const tag = stringOption(args, 'tag');
  if (tag !== undefined && tag.trim() === '') throw new UsageError('--tag is empty');
  const count = integerOption(args, 'count', 1, Number.MAX_SAFE_INTEGER);
  return {
    nameserver: nameserverOf(args, env),
    topic,
    json: booleanFlag(args, 'json'),
    ...(tag === undefined ? {} : { tag }),
    ...(count === undefined ? {} : { count }),
  };
}

/** One followed message as --json prints it (one document per line). */
export interface TailedMessage {
  readonly broker: string;
  readonly topic: string;
  readonly queueId: number;
  readonly queueOffset: number;
  readonly messageId: string;
  readonly tag: string;
  readonly keys: readonly string[];
  readonly storeTime: string;
  readonly bodyEncoding: 'utf8' | 'base64';
  readonly body: string;
}

export function tailedMessage(broker: string, entry: WireDispatchEntry, stored: WireStoredMessage | undefined): TailedMessage {
  const body = bodyText(stored?.body ?? Buffer.alloc(0));
  const storeMs = Number(entry.store_timestamp_ms ?? stored?.store_timestamp_ms ?? 0);
  return {
    broker,
    topic: entry.topic ?? '',
    queueId: entry.queue_id ?? 0,
    queueOffset: Number(entry.queue_offset ?? 0),
    messageId: entry.message_id ?? '',
    tag: entry.tag ?? '',
    keys: entry.keys ?? [],
    storeTime: storeMs > 0 ? new Date(storeMs).toISOString() : '-',
    bodyEncoding: stored === undefined ? 'utf8' : body.encoding,
    body: stored === undefined ? '' : body.text,
  };
}

/** `<store time>  <broker> q<queue>:<offset>  <message id>  tag=<tag>  keys=<a,b>  <body as a JSON string>`. */
export function renderTailLine(m: TailedMessage): string {
  const body = m.bodyEncoding === 'base64' ? `base64:${m.body}` : JSON.stringify(m.body);
  return `${m.storeTime}  ${m.broker} q${m.queueId}:${m.queueOffset}  ${m.messageId}  tag=${m.tag || '-'}  keys=${m.keys.join(',') || '-'}  ${body}\n`;
}

/** The entries of the batch that are this topic's (and tag's) messages. */
export function matching(batch: WireDispatchBatch, input: Pick<MessageTailInput, 'topic' | 'tag'>): WireDispatchEntry[] {
  return (batch.entries ?? []).filter((e) => e.topic === input.topic && (input.tag === undefined || e.tag === input.tag));
}

const START_RETRIES = 10;
const RETRY_MS = 100;

/** Where one master's commit log ends now: the tail starts there. */
async function logEndOf(ctx: CommandContext, master: MasterBroker): Promise<string | number> {
  const admin = ctx.deps.brokerAdminClient(master.address);
  try {
    const answer = await callServer(brokerTarget(master), () => admin.call('ReplicationStatus', {}), {
      UNIMPLEMENTED: 'This broker cannot say where its log ends (no ReplicationStatus); upgrade it.',
    });
    return answer.max_offset ?? 0;
  } finally {
    admin.close();
  }
}

/** Follows one master from `end`; resolves when stopped, rejects with a ServerError. */
async function followMaster(
  ctx: CommandContext,
  master: MasterBroker,
  end: string | number,
  input: MessageTailInput,
  emit: (m: TailedMessage) => void,
  stopped: Promise<void>,
): Promise<void> {
  const dispatch = ctx.deps.brokerDispatchClient(master.address);
  try {
    await followFrom(dispatch, end, master, input, emit, stopped);
  } catch (err) {
    throw err instanceof ServerError ? err : new ServerError(brokerTarget(master), err);
  } finally {
    dispatch.close();
  }
}

function followFrom(
  dispatch: BrokerDispatchClient,
  from: string | number,
  master: MasterBroker,
  input: MessageTailInput,
  emit: (m: TailedMessage) => void,
  stopped: Promise<void>,
  attempt = 0,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let done = false;
    let received = false;
    let chain = Promise.resolve();
    const stream = dispatch.follow({ from_offset: from, heartbeat_ms: 500, max_batch_entries: 512 });
    const finish = (err?: unknown): void => {
      if (done) return;
      done = true;
      stream.cancel();
      if (err === undefined) resolve();
      else reject(err);
    };
    void stopped.then(() => chain.then(() => finish()));
    stream.on('data', (batch: WireDispatchBatch) => {
      received = true;
      const entries = matching(batch, input);
      if (entries.length === 0) return;
      chain = chain.then(async () => {
        if (done) return;
        const answer = await dispatch.getMessages(entries.map((e) => e.physical_offset ?? 0));
        const items = answer.items ?? [];
        entries.forEach((entry, i) => {
          if (!done) emit(tailedMessage(master.brokerName, entry, items[i]?.found ? items[i]?.message : undefined));
        });
      }).catch((err: unknown) => finish(err));
    });
    stream.on('error', (err: unknown) => {
      if (done) return;
      if (isServiceError(err) && err.code === status.CANCELLED) return finish();
      if (!received && attempt < START_RETRIES && isServiceError(err) && err.code === status.OUT_OF_RANGE) {
        // the end we were told is not readable yet (a write still returning): a moment later it is
        done = true;
        setTimeout(() => followFrom(dispatch, from, master, input, emit, stopped, attempt + 1).then(resolve, reject), RETRY_MS);
        return;
      }
      finish(err);
    });
    stream.on('end', () => finish());
  });
}

async function run(ctx: CommandContext): Promise<CommandOutput> {
  const input = parseMessageTail(ctx.args, ctx.env);
  const out = ctx.streams?.stdout ?? { write: () => undefined };
  const target = { kind: 'nameserver', address: input.nameserver } as const;
  const hints = { NOT_FOUND: `No live broker serves topic ${input.topic}; \`apogee topic list\` lists the topics.` };
  const route = await withNameServer(ctx, input.nameserver, (ns) => callServer(target, () => ns.queryRoute(input.topic), hints));
  const { masters, withoutMaster } = routeMasters(route);
  if (masters.length === 0) {
    throw new CliError(
      `no live master serves topic ${input.topic} (broker groups without one: ${withoutMaster.join(', ') || 'none'})`,
      '`apogee cluster status` shows which masters are down; run the command again once one is back.',
    );
  }
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const onAbort = (): void => stop();
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  if (ctx.signal?.aborted) stop();
  // a spinner on a terminal while nothing arrived yet; gone with the first message (stdout may share the terminal)
  const progress = progressOf(ctx, `waiting for messages on ${input.topic}`);
  const spinner = setInterval(() => progress.note(''), 250);
  spinner.unref();
  let printed = 0;
  const emit = (m: TailedMessage): void => {
    if (input.count !== undefined && printed >= input.count) return;
    printed++;
    clearInterval(spinner);
    progress.done();
    out.write(input.json ? `${JSON.stringify(m)}\n` : renderTailLine(m));
    if (input.count !== undefined && printed >= input.count) stop();
  };
  const skipped = withoutMaster.length === 0 ? '' : ` (no live master, skipped: ${withoutMaster.join(', ')})`;
  // every message stored after this line is printed: each master is followed from its end as of now
  const ends = await Promise.all(masters.map((m) => logEndOf(ctx, m)));
  ctx.streams?.stderr.write(
    `Following topic ${input.topic} on ${masters.length} broker${masters.length === 1 ? '' : 's'}${skipped}, new messages only` +
      `${input.count === undefined ? '; Ctrl-C to stop' : `, until ${input.count}`}.\n`,
  );
  try {
    const follows = masters.map((m, i) => followMaster(ctx, m, ends[i], input, emit, stopped));
    // one broker failing stops the others: the output would silently miss its messages
    await Promise.all(follows.map((f) => f.catch((err: unknown) => (stop(), Promise.reject(err)))));
  } finally {
    stop();
    clearInterval(spinner);
    progress.done();
    ctx.signal?.removeEventListener('abort', onAbort);
  }
  return { text: '', json: null, exitCode: EXIT_OK, streamed: true };
}

export const messageTailCommand: Command = {
  noun: 'message',
  verb: 'tail',
  operands: '<topic>',
  summary: "Follow a topic's new messages and print one line per message until Ctrl-C",
  synopsis: '<topic> [--tag X] [--count N]',
  options: {
    tag: { type: 'string', value: 'X', description: 'only messages with this tag' },
    count: { type: 'string', value: 'N', description: 'stop after N messages (default: run until Ctrl-C)' },
  },
  examples: ['apogee message tail orders', 'apogee message tail orders --tag created --count 10 --json'],
  notes: [
    'Reads without consuming: no consumer group is created or moved. Starts at the end: only messages stored from now on.',
    'Line: STORE-TIME  BROKER qQUEUE:OFFSET  MESSAGE-ID  tag=TAG  keys=KEYS  BODY (a JSON string, or base64:... when not UTF-8 text).',
    'With --json: one JSON document per line (per message), for jq and scripts.',
    'Exit 0 when stopped (Ctrl-C, or --count reached), 1 when a broker fails or no live master serves the topic.',
  ],
  run,
};
