import { ERROR_CODES, type ErrorCode } from './error-codes';

export interface ApogeeErrorOptions {
  cause?: unknown;
  /** Overrides the registry's default for this code. */
  retriable?: boolean;
}

/** Apogee's error class: a stable string code from ERROR_CODES, whether to retry, and the cause. */
export class ApogeeError extends Error {
  readonly retriable: boolean;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: ApogeeErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ApogeeError';
    this.retriable = options.retriable ?? ERROR_CODES[code].retriable;
  }
}
