/** The shape of one verb (`apogee <noun> <verb>`) and what it gets to run with. */
import type { BrokerAdminClient, MessageIndexClient, NameServerClient } from '@apogee/protocol';
import type { ParsedArgs, OptionSpecs } from './cli-args';
import type { ExitCode } from './cli-error';

/** Clients and the clock; tests may replace them. */
export interface CliDeps {
  nameServerClient(address: string): NameServerClient;
  brokerAdminClient(address: string): BrokerAdminClient;
  messageIndexClient(address: string): MessageIndexClient;
  now(): number;
}

export interface CommandContext {
  readonly args: ParsedArgs;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly deps: CliDeps;
}

/** What a verb produced: the human text, the --json document, and the exit code (1 on a partial failure). */
export interface CommandOutput {
  readonly text: string;
  readonly json: unknown;
  readonly exitCode: ExitCode;
  /** Printed to stderr after the text, e.g. why the exit code is 1. */
  readonly warning?: string;
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
