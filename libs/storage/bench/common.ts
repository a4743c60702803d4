import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import type { MessageInput } from '../src/codec/record-codec';
import type { MessageStore } from '../src/message-store';
import { MiB } from './report';

/** What every measurement shares: environment knobs, messages, the paced producer, children. */

export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return v;
}

/** A fresh folder under BENCH_DIR (or the OS temp dir). */
export function freshDir(prefix: string): string {
  return mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), `apogee-bench-${prefix}-`));
}

export const TOPIC = 'BenchTopic';
export const QUEUES = 8;

/**
 * Message i of a stream: a fixed body of `bodyBytes` random bytes, a 32-character message id, a
 * tag and one property, spread round-robin over QUEUES queues. Every record has the same size.
 */
export function messageFactory(bodyBytes: number): (i: number) => MessageInput {
  const body = randomBytes(bodyBytes);
  const ids = Array.from({ length: 1024 }, () => randomBytes(16).toString('hex').toUpperCase());
  const properties = { TRACE_ON: 'false' };
  return (i) => ({
    topic: TOPIC,
    queueId: i % QUEUES,
    body,
    messageId: ids[i & 1023],
    bornTimestampMs: 1_700_000_000_000 + i,
    tag: 'TagA',
    properties,
  });
}

export interface PacedOptions {
  /** Stop after this many record bytes… */
  readonly targetBytes: number;
  /** …but not before this many ms (0: no minimum)… */
  readonly minMs: number;
  /** …and never after this many ms. */
  readonly maxMs: number;
  /** Most record bytes appended but not yet acknowledged. */
  readonly maxOutstandingBytes: number;
  /** Messages per append call: 1 uses append(), more use appendBatch() (as a SendMessage of N does). */
  readonly batch?: number;
  /** Called after each acknowledged window (progress reports). */
  readonly onWindow?: (bytes: number, messages: number) => void;
}

export interface PacedResult {
  readonly messages: number;
  readonly recordBytes: number;
  readonly recordSize: number;
  readonly ms: number;
}

/**
 * Appends as fast as the store acknowledges, with at most `maxOutstandingBytes` in flight: the
 * appends are issued in windows of about 1 MiB and the producer awaits the oldest window when
 * the limit is reached. Each window is issued in its own event-loop turn, as a server's requests
 * arrive, so write completions interleave with encoding. It never spins: below the limit every
 * turn appends a window, at the limit it waits for an acknowledgement.
 */
export async function appendPaced(
  store: MessageStore,
  message: (i: number) => MessageInput,
  o: PacedOptions,
): Promise<PacedResult> {
  const started = performance.now();
  const first = await store.append(message(0));
  const recordSize = first.totalBytes;
  const perWindow = Math.max(1, Math.floor(MiB / recordSize));
  const maxWindows = Math.max(1, Math.floor(o.maxOutstandingBytes / (perWindow * recordSize)));
  const windows: Promise<number>[] = [];
  let issued = 1;
  let recordBytes = recordSize;
  let acked = 1;
  const done = (): boolean => {
    const ms = performance.now() - started;
    return ms >= o.maxMs || (issued * recordSize >= o.targetBytes && ms >= o.minMs);
  };
  const settleOldest = async (): Promise<void> => {
    const w = windows.shift() as Promise<number>;
    const bytes = await w;
    recordBytes += bytes;
    acked += Math.round(bytes / recordSize);
    o.onWindow?.(recordBytes, acked);
  };
  while (!done()) {
    if (windows.length >= maxWindows) {
      await settleOldest();
      continue;
    }
    windows.push(appendWindow(store, message, issued, perWindow, o.batch ?? 1));
    issued += perWindow;
    await new Promise<void>((resolve) => setImmediate(resolve)); // the next window comes in a later turn, as a server's requests do
  }
  while (windows.length > 0) await settleOldest();
  return { messages: acked, recordBytes, recordSize, ms: performance.now() - started };
}

/** Appends messages [from, from + count) in calls of `batch`; resolves with their record bytes. */
async function appendWindow(
  store: MessageStore,
  message: (i: number) => MessageInput,
  from: number,
  count: number,
  batch: number,
): Promise<number> {
  const calls: Promise<unknown>[] = [];
  for (let i = from; i < from + count; i += batch) {
    if (batch === 1) {
      calls.push(store.append(message(i)));
      continue;
    }
    const inputs: MessageInput[] = [];
    for (let k = i; k < Math.min(i + batch, from + count); k++) inputs.push(message(k));
    calls.push(store.appendBatch(inputs));
  }
  let bytes = 0;
  for (const answer of (await Promise.all(calls)) as Array<Appended | Appended[]>) {
    if (Array.isArray(answer)) for (const r of answer) bytes += recordBytes(r);
    else bytes += recordBytes(answer);
  }
  return bytes;
}

type Appended = { readonly totalBytes: number } | Error;

function recordBytes(r: Appended): number {
  if (r instanceof Error) throw r;
  return r.totalBytes;
}

/**
 * Starts a child script of this folder (`name` without extension): the .ts file with tsx when we
 * run from source, the sibling .js file when we run as an esbuild bundle. stdout is piped.
 */
export function spawnChild(name: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const ext = extname(__filename);
  const file = join(__dirname, `${name}${ext}`);
  return spawn(process.execPath, [...(ext === '.ts' ? ['--import', 'tsx'] : []), file, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
}

/** Resolves with the child's first stdout line that is a JSON object; `{"error": …}` rejects. */
export function firstJsonLine<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onExit = (code: number | null, signal: string | null): void =>
      reject(new Error(`child exited (${code ?? signal}) before reporting`));
    child.once('exit', onExit);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      text += chunk;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
        const line = text.slice(0, nl).trim();
        text = text.slice(nl + 1);
        if (line.startsWith('{')) {
          child.off('exit', onExit);
          const value = JSON.parse(line) as T & { error?: string };
          if (typeof value.error === 'string') reject(new Error(`child failed: ${value.error}`));
          else resolve(value);
          return;
        }
      }
    });
  });
}

/** Resolves when the child has exited (immediately if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** A line of progress on stderr (the table goes to stdout). */
export function progress(text: string): void {
  process.stderr.write(`[bench] ${text}\n`);
}
