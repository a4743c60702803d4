import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

/** The repository root, found from this file (libs/testing/src). */
export const WORKSPACE_ROOT = path.resolve(__dirname, '../../..');

export interface SpawnServiceOptions {
  /** The app folder under apps/, e.g. 'broker'. */
  app: string;
  /** Extra flags; they come after the loopback, port-0 defaults and so win over them. */
  args?: readonly string[];
  /** Added to the child's environment. */
  env?: Readonly<Record<string, string>>;
  startTimeoutMs?: number;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnedService {
  child: ChildProcess;
  /** From the 'listening' log line: host:port. */
  grpcAddress: string;
  metricsAddress: string;
  /** Every JSON log line so far. */
  logs: Record<string, unknown>[];
  exited: Promise<ExitStatus>;
  /** Sends the signal and resolves with the exit status; SIGKILLs and rejects after the timeout. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ExitStatus>;
  /** SIGKILL if still running: for afterAll, so a failed test leaves no process behind. */
  kill(): void;
}

const LOOPBACK_PORT_0 = [
  ...['--grpc-host', '127.0.0.1', '--grpc-port', '0'],
  ...['--metrics-host', '127.0.0.1', '--metrics-port', '0'],
];

/**
 * Runs apps/<app>/src/main.ts as a real child process (node --import tsx) and resolves once it
 * logs 'listening'; rejects with its output if it exits or stays silent first.
 */
export function spawnService(options: SpawnServiceOptions): Promise<SpawnedService> {
  const main = path.join('apps', options.app, 'src', 'main.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...LOOPBACK_PORT_0, ...(options.args ?? [])], {
    cwd: WORKSPACE_ROOT,
    env: { ...process.env, TSX_TSCONFIG_PATH: path.join('apps', options.app, 'tsconfig.json'), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const output: string[] = [];
  const exited = new Promise<ExitStatus>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const kill = (): void => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<ExitStatus> => {
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      const error = new Error(`${options.app} did not exit within ${timeoutMs} ms of ${signal}`);
      timer = setTimeout(() => reject(error), timeoutMs);
    });
    try {
      return await Promise.race([exited, timeout]);
    } catch (err) {
      kill();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  };
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));

  return new Promise<SpawnedService>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined = undefined;
    const fail = (reason: string): void => {
      clearTimeout(timer);
      kill();
      reject(new Error(`${options.app} ${reason}; output:\n${output.join('').slice(-4_000)}`));
    };
    timer = setTimeout(() => fail('did not log "listening" in time'), options.startTimeoutMs ?? 20_000);
    void exited.then((s) => fail(`exited before listening (code ${s.code}, signal ${s.signal})`));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(`${line}\n`);
      const entry = parseJson(line);
      if (!entry) return;
      logs.push(entry);
      if (entry.msg !== 'listening') return;
      clearTimeout(timer);
      const grpcAddress = String(entry.grpc);
      const metricsAddress = String(entry.metrics);
      resolve({ child, grpcAddress, metricsAddress, logs, exited, stop, kill });
    });
  });
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
