/**
 * A progress line on stderr for long operations (fan-out to many brokers, waiting for messages):
 * drawn only when stderr is a terminal, so pipes, files, scripts and tests never see it. Redrawn
 * in place with `\r`, erased when done; the result itself always goes to stdout.
 */

export interface ProgressStream {
  write(text: string): unknown;
  /** Set by Node on a terminal stream (process.stderr.isTTY). */
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface Progress {
  /** One more step done (of `total`, when known). */
  tick(note?: string): void;
  /** Replaces the note after the bar (e.g. "3 received"). */
  note(note: string): void;
  /** Erases the line; further calls do nothing. */
  done(): void;
}

const WIDTH = 20;
const SPINNER = ['|', '/', '-', '\\'];
const SILENT: Progress = { tick: () => undefined, note: () => undefined, done: () => undefined };

/** `[#####.....] 3/5 label note` with a total, `| label note` without one. */
export function renderProgress(label: string, done: number, total: number | undefined, note: string, frame = 0): string {
  if (total === undefined) return `${SPINNER[frame % SPINNER.length]} ${label}${note ? ` ${note}` : ''}`;
  const filled = total <= 0 ? WIDTH : Math.min(WIDTH, Math.round((done / total) * WIDTH));
  return `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${done}/${total} ${label}${note ? ` ${note}` : ''}`;
}

/** A progress line on `stream`, or one that does nothing when the stream is not a terminal. */
export function createProgress(stream: ProgressStream, label: string, total?: number): Progress {
  if (stream.isTTY !== true) return SILENT;
  let count = 0;
  let text = '';
  let frame = 0;
  let finished = false;
  const width = Math.max(20, (stream.columns ?? 80) - 1);
  const draw = (): void => {
    if (finished) return;
    const line = renderProgress(label, count, total, text, frame++).slice(0, width);
    stream.write(`\r${line.padEnd(width)}`);
  };
  draw();
  return {
    tick: (note) => {
      count++;
      if (note !== undefined) text = note;
      draw();
    },
    note: (note) => {
      text = note;
      draw();
    },
    done: () => {
      if (finished) return;
      finished = true;
      stream.write(`\r${' '.repeat(width)}\r`);
    },
  };
}
