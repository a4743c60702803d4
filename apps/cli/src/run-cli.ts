/**
 * The CLI as a function: `runCli(argv, io)` runs one command and resolves with its exit code,
 * writing only to the given stdout and stderr, so tests run it in-process. main.ts wires it to
 * the real process.
 *
 * Output contract: the result goes to stdout (a table, or with --json exactly one JSON document);
 * errors and warnings go to stderr as `error: ...` and `hint: ...` lines. With --json a failure
 * also prints `{"error": {...}}` to stdout, so scripts always get one document to parse.
 */
import {
  createBrokerAdminClient,
  createBrokerDispatchClient,
  createMessageIndexClient,
  createNameServerClient,
} from '@apogee/protocol';
import { parseCommandArgs } from './cli-args';
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, type ExitCode, type Failure } from './cli-error';
import type { CliDeps, Command, CommandOutput } from './command';
import { COMMANDS } from './commands';
import { renderCommandHelp, renderNounHelp, renderRootHelp, usageHint } from './help';
import { startOfficialProducer } from './producer';
import { ServerError } from './server-error';

export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  /** isTTY: a terminal, where long operations draw a progress line (process.stderr sets it). */
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean; readonly columns?: number };
  /** For $APOGEE_NAMESERVER; none by default. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Aborted on Ctrl-C: `message tail` stops and reports what it printed. */
  readonly signal?: AbortSignal;
}

export const DEFAULT_DEPS: CliDeps = {
  nameServerClient: (address) => createNameServerClient(address),
  brokerAdminClient: (address) => createBrokerAdminClient(address),
  messageIndexClient: (address) => createMessageIndexClient(address),
  brokerDispatchClient: (address) => createBrokerDispatchClient(address),
  startProducer: (endpoint, topic) => startOfficialProducer(endpoint, topic),
  now: () => Date.now(),
};

const HELP_FLAGS = ['-h', '--help'];

/** Runs one command line (without `node apogee`) and resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo, deps: Partial<CliDeps> = {}): Promise<ExitCode> {
  const json = argv.includes('--json');
  let command: Command | undefined;
  try {
    const found = findCommand(argv, io);
    if (typeof found === 'number') return found;
    command = found.command;
    const { rest } = found;
    if (wantsHelp(rest)) return print(io, renderCommandHelp(command), EXIT_OK);
    const args = parseCommandArgs(rest, command.options);
    const streams = { stdout: io.stdout, stderr: io.stderr };
    const context = { args, env: io.env ?? {}, deps: { ...DEFAULT_DEPS, ...deps }, streams };
    const output = await command.run(io.signal === undefined ? context : { ...context, signal: io.signal });
    return report(io, output, json);
  } catch (err) {
    return reportError(io, err, json, usageHint(command?.noun, command?.verb));
  }
}

/** The command named by argv[0] and argv[1] (and argv[2] for a two-word verb: broker config get), or the exit code after printing help. */
function findCommand(argv: readonly string[], io: CliIo): { command: Command; rest: readonly string[] } | ExitCode {
  const [noun, verb] = argv;
  if (noun === undefined) return print(io, renderRootHelp(COMMANDS), EXIT_USAGE, 'stderr');
  if (HELP_FLAGS.includes(noun) || noun === 'help') return print(io, renderRootHelp(COMMANDS), EXIT_OK);
  const nouns = [...new Set(COMMANDS.map((c) => c.noun))];
  if (!nouns.includes(noun)) {
    throw new UsageError(`unknown command ${JSON.stringify(noun)}; commands: ${nouns.join(', ')}`);
  }
  if (verb === undefined) return print(io, renderNounHelp(noun, COMMANDS), EXIT_USAGE, 'stderr');
  if (HELP_FLAGS.includes(verb)) return print(io, renderNounHelp(noun, COMMANDS), EXIT_OK);
  const ofNoun = COMMANDS.filter((c) => c.noun === noun);
  for (const command of ofNoun) {
    const words = command.verb.split(' ');
    if (words.every((word, i) => argv[1 + i] === word)) return { command, rest: argv.slice(1 + words.length) };
  }
  const verbs = ofNoun.map((c) => c.verb);
  if (verbs.some((v) => v.startsWith(`${verb} `))) {
    const sub = argv[2];
    if (sub === undefined) return print(io, renderNounHelp(noun, COMMANDS), EXIT_USAGE, 'stderr');
    if (HELP_FLAGS.includes(sub)) return print(io, renderNounHelp(noun, COMMANDS), EXIT_OK);
    throw new UsageError(`unknown command "${noun} ${verb} ${sub}"; ${noun} verbs: ${verbs.join(', ')}`, usageHint(noun));
  }
  throw new UsageError(`unknown command "${noun} ${verb}"; ${noun} verbs: ${verbs.join(', ')}`, usageHint(noun));
}

/** --help or -h anywhere before a `--`. */
function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => HELP_FLAGS.includes(a));
}

function print(io: CliIo, text: string, code: ExitCode, stream: 'stdout' | 'stderr' = 'stdout'): ExitCode {
  io[stream].write(text);
  return code;
}

function report(io: CliIo, output: CommandOutput, json: boolean): ExitCode {
  if (output.streamed !== true) io.stdout.write(json ? `${JSON.stringify(output.json, null, 2)}\n` : output.text);
  if (output.warning !== undefined) io.stderr.write(`error: ${output.warning}\n`);
  return output.exitCode;
}

/** Prints the failure and returns its exit code: 2 for usage errors, 1 for everything else. */
function reportError(io: CliIo, err: unknown, json: boolean, usage: string): ExitCode {
  const { failure, exitCode } = classify(err, usage);
  io.stderr.write(`error: ${failure.message}\n${failure.hint ? `hint: ${failure.hint}\n` : ''}`);
  if (json) io.stdout.write(`${JSON.stringify({ error: { ...failure, exitCode } }, null, 2)}\n`);
  return exitCode;
}

function classify(err: unknown, usage: string): { failure: Failure; exitCode: ExitCode } {
  if (err instanceof ServerError) return { failure: err.describe(), exitCode: EXIT_FAILURE };
  if (err instanceof CliError) {
    const hint = err.hint ?? (err.exitCode === EXIT_USAGE ? usage : undefined);
    return { failure: { message: err.message, ...(hint === undefined ? {} : { hint }) }, exitCode: err.exitCode };
  }
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return { failure: { message: `unexpected failure: ${message}` }, exitCode: EXIT_FAILURE };
}
