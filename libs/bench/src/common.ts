/**
 * Shared plumbing of the broker benchmark (also used by apps/index-service/bench): env knobs,
 * child processes (spawned, their gRPC address read from stdout, CPU read from /proc, stopped and
 * killed on any exit), temp dirs, percentiles and the result table.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name}=${raw} is not a number`);
  return value;
}

export const progress = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

/** Kills every child still running and removes the temp dirs: runs on exit, signals and crashes. */
function cleanUp(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}
let hooked = false;

/** Installs the clean-up on exit and signals once something needs cleaning (a temp dir, a child): importing this library has no side effects. */
function hookCleanUp(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', cleanUp);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      progress(`${signal}: cleaning up`);
      cleanUp();
      process.exit(130);
    });
  }
}

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  hookCleanUp();
  tempDirs.add(dir);
  return dir;
}

export interface Service {
  readonly name: string;
  readonly pid: number;
  /** host:port of its gRPC server. */
  readonly address: string;
  /** user + system CPU seconds the process has used so far (/proc/<pid>/stat utime + stime). */
  cpuSeconds(): number;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

const CLOCK_TICKS = 100; // USER_HZ; `getconf CLK_TCK` on Linux

export function procCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // 14 utime, 15 stime
}

/**
 * Spawns `node <args>` and waits until `addressOf` finds its gRPC address in a stdout line.
 * Other stdout is dropped; stderr is passed through.
 */
export function startService(name: string, args: string[], addressOf: (line: string) => string | undefined, timeoutMs = 30_000): Promise<Service> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  hookCleanUp();
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${name} did not report its address within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    const early = (code: number | null, signal: string | null): void => fail(new Error(`${name} exited early (code ${code}, signal ${signal})`));
    child.once('exit', early);
    const lines = createInterface({ input: child.stdout! });
    let found = false;
    lines.on('line', (line) => {
      if (found) return;
      const address = addressOf(line);
      if (address === undefined) return;
      found = true;
      clearTimeout(timer);
      child.off('exit', early);
      resolve({
        name,
        pid: child.pid!,
        address,
        cpuSeconds: () => procCpuSeconds(child.pid!),
        stop: async (graceMs = 10_000) => {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
            await exited;
            clearTimeout(kill);
          }
          children.delete(child);
        },
      });
    });
  });
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export interface Row {
  measure: string;
  result: string;
  ceiling?: string;
  ratio?: string;
  target: string;
  verdict?: string;
}

/** Prints rows as a table; `head` names the columns, and only its columns are printed. */
export function printTable(rows: Row[], head: Row = { measure: 'measure', result: 'apogee broker', ceiling: 'trivial grpc-js', ratio: 'ratio', target: 'target', verdict: 'met?' }): void {
  const keys = Object.keys(head) as (keyof Row)[];
  const width = keys.map((k) => Math.max(...[head, ...rows].map((r) => (r[k] ?? '').length)));
  const line = (r: Row): string => keys.map((k, i) => (r[k] ?? '').padEnd(width[i])).join(' | ');
  console.log(line(head));
  console.log(width.map((w) => '-'.repeat(w)).join('-|-'));
  for (const row of rows) console.log(line(row));
}

/** A ratio as a whole percentage ('n/a' when not finite). */
export const pct = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(0)}%` : 'n/a');

/** A target's verdict column. */
export const verdict = (ok: boolean): string => (ok ? 'yes' : 'NO');

/** CPU seconds over a wall-clock window, as a share of one core. */
export const coresOf = (cpu: number | undefined, seconds: number): string =>
  cpu === undefined ? 'n/a' : `${((cpu / seconds) * 100).toFixed(0)}% of a core${cpu / seconds > 0.9 ? ' (saturated)' : ''}`;

export const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a';

/** The gRPC address in an Apogee app's JSON 'listening' log line, if `line` is one. */
export function listeningAddress(line: string): string | undefined {
  if (!line.startsWith('{')) return undefined;
  const log = JSON.parse(line) as { msg?: string; grpc?: string };
  return log.msg === 'listening' ? log.grpc : undefined;
}

/**
 * Starts a built Apogee app (`main`, e.g. dist/apps/nameserver/main.js) on loopback port 0 (gRPC
 * and metrics) with `flags`; `nodeFlags` go to node (e.g. --cpu-prof). Resolves once it logs 'listening'.
 */
export function startApp(name: string, main: string, flags: readonly string[], nodeFlags: readonly string[] = []): Promise<Service> {
  const listen = ['--grpc-host', '127.0.0.1', '--grpc-port', '0', '--metrics-host', '127.0.0.1', '--metrics-port', '0'];
  return startService(name, [...nodeFlags, main, ...listen, ...flags], listeningAddress);
}

/**
 * Starts the built broker (`brokerMain`, e.g. dist/apps/broker/main.js) on loopback port 0 with
 * ASYNC flush and auto-created topics and groups, data in `dataDir`; `nodeFlags` go to node (e.g.
 * --cpu-prof); standalone unless `nameservers` (host:port, comma-separated) are given. Resolves
 * once it logs 'listening'.
 */
export function startBroker(brokerMain: string, dataDir: string, nodeFlags: readonly string[] = [], nameservers = ''): Promise<Service> {
  const flags = ['--data-dir', dataDir, '--nameservers', nameservers, '--flush-mode', 'ASYNC', '--auto-create-topics', 'true', '--auto-create-groups', 'true'];
  return startApp('broker', brokerMain, flags, nodeFlags);
}

/** Prints the parts that failed (if any) and sets a failing exit code. */
export function reportFailedParts(fails: readonly string[]): void {
  if (fails.length === 0) return;
  console.log('\nFAILED parts:');
  for (const f of fails) console.log(f);
  process.exitCode = 1;
}

/** Runs a benchmark's main and exits explicitly: the 'exit' hook kills children and removes the temp dirs. */
export function runBenchMain(main: () => Promise<void>): void {
  main().then(
    () => process.exit(),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
