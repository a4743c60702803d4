/**
 * The two sides of a crash-suite child process (append-child.ts, replicate-child.ts).
 *
 * Child side: `writeLine` sends one protocol line with a blocking write(2) on fd 1, not
 * process.stdout: a pipe stream queues writes in memory when the pipe is full, and a line still
 * queued when the kill lands would be lost.
 *
 * Parent side: `spawnChild` runs the script with tsx and hands each complete stdout line to
 * `onLine` (a line without its newline is not an acknowledgement); `killAndWait` SIGKILLs it and
 * waits until its pipes are closed, so every line it wrote has been read.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { waitUntil } from '../wait-until';

const STDOUT_FD = 1;

export function writeLine(line: string): void {
  const bytes = Buffer.from(`${line}\n`);
  for (let at = 0; at < bytes.length; ) {
    try {
      at += writeSync(STDOUT_FD, bytes, at);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err; // fd 1 in non-blocking mode: retry
    }
  }
}

export interface CrashChild {
  readonly proc: ChildProcess;
  readonly exited: () => boolean;
  readonly stderr: () => string;
  /** SIGKILL, then resolves once the pipes are closed (every written line was read). */
  killAndWait(): Promise<void>;
}

export function spawnChild(script: string, args: readonly string[], onLine: (line: string) => void): CrashChild {
  const tsx = pathToFileURL(require.resolve('tsx')).href;
  const proc = spawn(process.execPath, ['--import', tsx, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let pending = '';
  let stderr = '';
  let exited = false;
  let closed = false;
  proc.on('exit', () => (exited = true));
  proc.on('close', () => (closed = true));
  proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  proc.stdout?.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
  return {
    proc,
    exited: () => exited,
    stderr: () => stderr,
    async killAndWait() {
      proc.kill('SIGKILL');
      await waitUntil(() => closed, () => 'the killed child to close its pipes');
    },
  };
}
