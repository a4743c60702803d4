/**
 * What a failed command reports: a message that says what went wrong, and where possible a hint
 * that says what to do next. Exit codes follow the usual CLI convention: 2 for a command line
 * that cannot work as written (fix the command), 1 for a failure of the cluster or the network.
 */

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export type ExitCode = typeof EXIT_OK | typeof EXIT_FAILURE | typeof EXIT_USAGE;

/** A failure as printed (human) or serialized (--json). */
export interface Failure {
  readonly message: string;
  readonly hint?: string;
  /** The gRPC status name (UNAVAILABLE, NOT_FOUND, ...) when a server answered with an error. */
  readonly grpcStatus?: string;
  /** The stable Apogee code from the `apogee-error-code` trailer, when the server sent one. */
  readonly apogeeCode?: string;
}

/** A failure the CLI itself detected, with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    readonly exitCode: ExitCode = EXIT_FAILURE,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The command line cannot work as written: exit 2, and point at the command's help. */
export class UsageError extends CliError {
  constructor(message: string, hint?: string) {
    super(message, hint, EXIT_USAGE);
    this.name = 'UsageError';
  }
}
