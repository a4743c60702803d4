/**
 * Turns what a server call failed with into a Failure: a message naming the server, and a hint.
 * The gRPC status says what kind of failure it was; the stable Apogee code in the
 * `apogee-error-code` trailer, when present, says which one exactly. Commands may pass hints of
 * their own (by Apogee code or gRPC status name) that take precedence over the generic ones.
 */
import { status, type ServiceError } from '@grpc/grpc-js';
import { ERROR_CODE_METADATA_KEY } from '@apogee/protocol';
import type { Failure } from './cli-error';

export type ServerKind = 'nameserver' | 'broker' | 'index-service';

export interface ServerTarget {
  readonly kind: ServerKind;
  readonly address: string;
  /** The broker group name, for brokers. */
  readonly name?: string;
}

/** Hints keyed by Apogee code (TOPIC_EXISTS) or gRPC status name (NOT_FOUND). */
export type FailureHints = Readonly<Record<string, string>>;

/** A server call failed; `cause` is what grpc-js rejected with. */
export class ServerError extends Error {
  constructor(
    readonly target: ServerTarget,
    override readonly cause: unknown,
    readonly hints: FailureHints = {},
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'ServerError';
  }

  describe(): Failure {
    return describeFailure(this.cause, this.target, this.hints);
  }
}

/** Runs one call to a server; a failure becomes a ServerError that knows which server it was. */
export async function callServer<T>(target: ServerTarget, call: () => Promise<T>, hints?: FailureHints): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw new ServerError(target, err, hints);
  }
}

export function isServiceError(err: unknown): err is ServiceError {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { code?: unknown }).code === 'number' &&
    typeof (err as { metadata?: { get?: unknown } }).metadata?.get === 'function'
  );
}

/** The Apogee code of a gRPC error, if the server sent one. */
export function apogeeCodeOf(err: ServiceError): string | undefined {
  const value = err.metadata.get(ERROR_CODE_METADATA_KEY)[0];
  return value === undefined ? undefined : String(value);
}

export function describeFailure(err: unknown, target: ServerTarget, hints: FailureHints = {}): Failure {
  const label = labelOf(target);
  if (!isServiceError(err)) {
    return { message: `${label}: ${err instanceof Error ? err.message : String(err)}` };
  }
  const grpcStatus = status[err.code] ?? String(err.code);
  const apogeeCode = apogeeCodeOf(err);
  const details = cleanDetails(err.details) || grpcStatus;
  const hint = (apogeeCode && hints[apogeeCode]) || hints[grpcStatus] || genericHint(err.code, apogeeCode, target);
  const message = transportFailure(err.code, apogeeCode)
    ? transportMessage(err.code, label, details)
    : `${label}: ${details}`;
  return { message, hint, grpcStatus, ...(apogeeCode === undefined ? {} : { apogeeCode }) };
}

/** grpc-js's connection failures end in an empty 'Resolution note' and repeat 'Error: '. */
function cleanDetails(details: string | undefined): string {
  return (details ?? '').replace(/\.?\s*Resolution note:\s*$/, '').replace(/Last error: Error: /, 'Last error: ').trim();
}

function labelOf(target: ServerTarget): string {
  const who = target.kind === 'broker' && target.name ? `broker ${target.name}` : target.kind;
  return `${who} at ${target.address}`;
}

/** No Apogee code: grpc-js itself failed (no connection, no answer, not that service). */
function transportFailure(code: status, apogeeCode: string | undefined): boolean {
  return apogeeCode === undefined && [status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.UNIMPLEMENTED].includes(code);
}

function transportMessage(code: status, label: string, details: string): string {
  if (code === status.UNAVAILABLE) return `cannot reach the ${label} (${details})`;
  if (code === status.DEADLINE_EXCEEDED) return `the ${label} did not answer in time (${details})`;
  return `the ${label} does not serve this API (${details})`;
}

const STORE_FAILURES = new Set(['STORAGE_READ_ONLY', 'STORE_CLOSED', 'IO_ERROR', 'CORRUPT_RECORD', 'CORRUPT_METADATA']);

function genericHint(code: status, apogeeCode: string | undefined, target: ServerTarget): string {
  if (apogeeCode === 'DISK_FULL') return "Free disk space on the broker (or lower its retentionHours), then retry.";
  if (apogeeCode !== undefined && STORE_FAILURES.has(apogeeCode)) {
    return "The broker's storage failed: check its log and restart it. The outcome of this change is unknown; check before retrying.";
  }
  switch (code) {
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
      return target.kind === 'nameserver'
        ? `Check that a nameserver runs at ${target.address} (\`npm start\` runs a local cluster), or pass --nameserver HOST:PORT.`
        : 'The nameserver still lists this broker: check that it runs and that its advertised address is reachable from here (`apogee cluster status` shows its last heartbeat).';
    case status.UNIMPLEMENTED:
      return target.kind === 'nameserver'
        ? "Point --nameserver at a nameserver's gRPC port (default 9876), not at a broker or a metrics port."
        : 'Check that the address is an Apogee broker of the same version as this CLI.';
    case status.INVALID_ARGUMENT:
    case status.OUT_OF_RANGE:
      return 'Fix the value the message names and run the command again.';
    case status.NOT_FOUND:
      return 'Check the name; `apogee topic list` lists the topics the nameserver knows.';
    case status.ALREADY_EXISTS:
      return 'It already exists; nothing was changed.';
    case status.FAILED_PRECONDITION:
      return "The server's current state does not allow this; the message says why.";
    default:
      return `Check the ${target.kind}'s log for this error.`;
  }
}
