import type { ConfigOf, ConfigSchema } from './config-schema';
import type { Logger, LogLevel } from './logger';
import { ConfigError } from './config-error';
import { loadConfig, type Env } from './config-loader';
import { renderConfig, renderConfigHelp } from './config-render';
import { createLogger } from './logger';
import { installShutdown, type SignalSource } from './shutdown';

export interface RunServiceOptions<S extends ConfigSchema> {
  app: string;
  schema: S;
  /** process.argv.slice(2) */
  argv: readonly string[];
  /** process.env */
  env: Env;
  /** The app's start<App>(config, { logger }). */
  start(config: ConfigOf<S>, deps: { logger: Logger }): Promise<{ stop(): Promise<void> }>;
  /** Signals, exit and stdout; the real process unless a test passes a fake. */
  process?: SignalSource & { stdout: { write(text: string): unknown } };
}

/**
 * What an app's main.ts calls: --help, config (exit 2 if invalid, also when start throws a
 * ConfigError), logger, the effective config in the start log, start, and graceful stop on
 * SIGTERM/SIGINT (exit 1 if start fails otherwise).
 */
export async function runService<S extends ConfigSchema>(options: RunServiceOptions<S>): Promise<void> {
  const { app, schema, argv } = options;
  const proc = options.process ?? process;
  if (argv.includes('--help') || argv.includes('-h')) {
    proc.stdout.write(renderConfigHelp(app, schema));
    return proc.exit(0);
  }
  let config: ConfigOf<S>;
  try {
    config = loadConfig(schema, { app, argv, env: options.env });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    createLogger({ app, level: 'info' }).fatal({ error: err.message }, 'invalid config');
    return proc.exit(2);
  }
  const level = (config as { logLevel?: LogLevel }).logLevel ?? 'info';
  const logger = createLogger({ app, level });
  logger.info({ config: renderConfig(schema, config), pid: process.pid, node: process.version }, 'starting');
  const shutdown = installShutdown({ logger, process: proc });
  try {
    const running = await options.start(config, { logger });
    shutdown.add(app, () => running.stop());
  } catch (err) {
    // A ConfigError from start is a check across fields (names, addresses): still a bad config.
    if (err instanceof ConfigError) {
      logger.fatal({ error: err.message }, 'invalid config');
      return proc.exit(2);
    }
    logger.fatal({ err }, 'start failed');
    return proc.exit(1);
  }
}
