import { systemClock, type Clock } from './clock';
import type { Logger } from './logger';

export type StopHook = () => Promise<void> | void;

/** The part of `process` that shutdown uses; tests pass a fake. */
export interface SignalSource {
  on(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  removeListener(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  exit(code: number): void;
}

export interface ShutdownOptions {
  logger: Logger;
  process: SignalSource;
  signals?: readonly NodeJS.Signals[];
  /**
   * A signal within this many ms of the previous one is the same request, not a second one:
   * a terminal's Ctrl-C reaches the whole process group, and a supervisor (npm, nx) may forward
   * its own copy as well. Default 1000.
   */
  repeatWindowMs?: number;
  clock?: Clock;
}

export interface Shutdown {
  /** Registers a hook; hooks run once, in reverse order of registration. */
  add(name: string, hook: StopHook): void;
  /** Runs the hooks and exits: 0 if all succeeded, 1 if one threw. A second call forces exit 1. */
  trigger(reason: string): Promise<void>;
  /** Removes the signal handlers (for tests). */
  uninstall(): void;
}

/**
 * Installs SIGTERM/SIGINT handlers that stop the service gracefully; a second signal (after the
 * repeat window) forces exit 1.
 */
export function installShutdown(options: ShutdownOptions): Shutdown {
  const { logger, process: proc } = options;
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const hooks: { name: string; hook: StopHook }[] = [];
  let running = false;

  const trigger = async (reason: string): Promise<void> => {
    if (running) {
      logger.warn({ reason }, 'forced exit');
      proc.exit(1);
      return;
    }
    running = true;
    logger.info({ reason }, 'shutting down');
    const exitCode = await runHooks(hooks.splice(0).reverse(), logger);
    logger.info({ exitCode }, 'shutdown complete');
    proc.exit(exitCode);
  };
  const clock = options.clock ?? systemClock;
  const repeatWindowMs = options.repeatWindowMs ?? 1_000;
  let lastSignalAt = -Infinity;
  const onSignal = (signal: NodeJS.Signals): void => {
    const now = clock.now();
    const repeat = now - lastSignalAt < repeatWindowMs;
    lastSignalAt = now;
    if (!repeat) void trigger(signal);
  };
  for (const s of signals) proc.on(s, onSignal);

  return {
    add: (name, hook) => void hooks.push({ name, hook }),
    trigger,
    uninstall: () => signals.forEach((s) => proc.removeListener(s, onSignal)),
  };
}

async function runHooks(hooks: readonly { name: string; hook: StopHook }[], logger: Logger): Promise<number> {
  let exitCode = 0;
  for (const { name, hook } of hooks) {
    try {
      await hook();
    } catch (err) {
      exitCode = 1;
      logger.error({ hook: name, err }, 'stop hook failed');
    }
  }
  return exitCode;
}
