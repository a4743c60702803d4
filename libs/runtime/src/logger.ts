import pino from 'pino';

type LogFn = {
  (fields: object, msg?: string): void;
  (msg: string): void;
};

/**
 * What libraries accept: a structured logger with short stable messages and values in fields.
 * A pino logger satisfies it.
 */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  app: string;
  level: LogLevel;
  /** Defaults to stdout, written synchronously so lines keep their order up to process.exit. */
  destination?: pino.DestinationStream;
}

/** A pino JSON logger with base fields { app }. */
export function createLogger(options: LoggerOptions): pino.Logger {
  const destination = options.destination ?? pino.destination({ dest: 1, sync: true });
  return pino({ level: options.level, base: { app: options.app } }, destination);
}
