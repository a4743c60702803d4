/** The shape of one verb (`apogee <noun> <verb>`) and what it gets to run with. */
import type { BrokerAdminClient, BrokerDispatchClient, MessageIndexClient, NameServerClient } from '@apogee/protocol';
import type { ParsedArgs, OptionSpecs } from './cli-args';
import type { ExitCode } from './cli-error';
import { createProgress, type Progress } from './progress';

/** A message for `apogee message send`. */
export interface SendInput {
  readonly topic: string;
  readonly body: Buffer;
  readonly tag?: string;
  readonly keys?: readonly string[];
  readonly messageGroup?: string;
}

export interface SendReceiptView {
  readonly messageId: string;
  readonly queueId?: number;
  readonly offset?: number;
  readonly brokerName?: string;
}

/** A started producer (the official RocketMQ 5 client's, by default). */
export interface CliProducer {
  send(message: SendInput): Promise<SendReceiptView>;
  shutdown(): Promise<void>;
}

/** Clients and the clock; tests may replace them. */
export interface CliDeps {
  nameServerClient(address: string): NameServerClient;
  brokerAdminClient(address: string): BrokerAdminClient;
  messageIndexClient(address: string): MessageIndexClient;
  brokerDispatchClient(address: string): BrokerDispatchClient;
  /** Starts a producer against a broker's (or proxy's) gRPC endpoint, for `topic`. */
  startProducer(endpoint: string, topic: string): Promise<CliProducer>;
  now(): number;
}

/** Where a verb may write while it runs (message tail), besides its final output. */
export interface CommandStreams {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean; readonly columns?: number };
}

export interface CommandContext {
  readonly args: ParsedArgs;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly deps: CliDeps;
  /** The CLI's streams; a progress line goes to stderr only when it is a terminal. */
  readonly streams?: CommandStreams;
  /** Aborted on Ctrl-C (main.ts): a following verb stops and reports what it did. */
  readonly signal?: AbortSignal;
}

/** A progress line for a long operation (a no-op unless stderr is a terminal). */
export function progressOf(ctx: CommandContext, label: string, total?: number): Progress {
  if (ctx.streams === undefined) return { tick: () => undefined, note: () => undefined, done: () => undefined };
  return createProgress(ctx.streams.stderr, label, total);
}

/** What a verb produced: the human text, the --json document, and the exit code (1 on a partial failure). */
export interface CommandOutput {
  readonly text: string;
  readonly json: unknown;
  readonly exitCode: ExitCode;
  /** Printed to stderr after the text, e.g. why the exit code is 1. */
  readonly warning?: string;
  /** The verb wrote its result while it ran (message tail): print nothing more but the warning. */
  readonly streamed?: boolean;
}

export interface Command {
  readonly noun: string;
  readonly verb: string;
  /** `<topic>` style arguments after the verb, for the command list. */
  readonly operands: string;
  readonly summary: string;
  /** Full synopsis after `apogee <noun> <verb>`. */
  readonly synopsis: string;
  readonly options: OptionSpecs;
  readonly examples: readonly string[];
  /** More lines of help after the options: defaults, what happens, what to run next. */
  readonly notes?: readonly string[];
  /** Parses and checks everything first (UsageError), then calls the servers (ServerError, CliError). */
  run(ctx: CommandContext): Promise<CommandOutput>;
}

/** Opens a nameserver client for the call and always closes it. */
export async function withNameServer<T>(
  ctx: CommandContext,
  address: string,
  use: (client: NameServerClient) => Promise<T>,
): Promise<T> {
  const client = ctx.deps.nameServerClient(address);
  try {
    return await use(client);
  } finally {
    client.close();
  }
}
