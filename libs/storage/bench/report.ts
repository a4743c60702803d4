import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';

/** Shared statistics and the report table of the storage benchmark. */

export interface Row {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** Bytes per second this figure stands for, when it has one: the ratio column is this ÷ raw. */
  readonly bytesPerSec?: number;
  /** Human-readable target, e.g. "≥ 60% of raw". */
  readonly target?: string;
  /** Whether the target is met; undefined for figures given for information. */
  readonly pass?: boolean;
}

export const MiB = 1 << 20;
export const GiB = 1 << 30;
export const MB = 1e6;

/** Nearest-rank percentile (0 < p ≤ 100) of unsorted samples; NaN when there are none. */
export function percentile(samples: Float64Array | number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

/** A growable Float64Array for latency samples (no boxed numbers, no GC churn). */
export class Samples {
  private buf = new Float64Array(1 << 16);
  private n = 0;

  push(v: number): void {
    if (this.n === this.buf.length) {
      const bigger = new Float64Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.n++] = v;
  }

  get count(): number {
    return this.n;
  }

  values(): Float64Array {
    return this.buf.subarray(0, this.n);
  }
}

/** Formats a number with a precision that suits its size. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return '–';
  const abs = Math.abs(v);
  if (abs >= 1000) return Math.round(v).toLocaleString('en-US');
  if (abs >= 100) return v.toFixed(0);
  if (abs >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

export function ratioOf(row: Row, rawBytesPerSec: number): string {
  return row.bytesPerSec === undefined || !(rawBytesPerSec > 0) ? '–' : `${((100 * row.bytesPerSec) / rawBytesPerSec).toFixed(0)}%`;
}

function verdict(row: Row): string {
  return row.pass === undefined ? 'info' : row.pass ? 'PASS' : 'FAIL';
}

const HEADER = ['measurement', 'value', 'unit', 'ratio to raw', 'target', 'result'];

function cells(rows: readonly Row[], rawBytesPerSec: number): string[][] {
  return rows.map((r) => [r.name, fmt(r.value), r.unit, ratioOf(r, rawBytesPerSec), r.target ?? '', verdict(r)]);
}

/** A fixed-width text table for the console. */
export function textTable(rows: readonly Row[], rawBytesPerSec: number): string {
  const body = cells(rows, rawBytesPerSec);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...body.map((c) => c[i].length)));
  const line = (c: string[]): string => c.map((s, i) => (i === 1 ? s.padStart(widths[i]) : s.padEnd(widths[i]))).join('  ');
  return [line(HEADER), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** The same table in GitHub markdown. */
export function markdownTable(rows: readonly Row[], rawBytesPerSec: number): string {
  const line = (c: string[]): string => `| ${c.join(' | ')} |`;
  return [line(HEADER), '|---|---:|---|---:|---|---|', ...cells(rows, rawBytesPerSec).map(line)].join('\n');
}

/** Facts about the machine the run happened on. */
export function machineFacts(dir: string): string[] {
  const cpu = cpus();
  let disk = 'unknown';
  try {
    disk = execFileSync('findmnt', ['-no', 'SOURCE,FSTYPE,OPTIONS', '-T', dir], { encoding: 'utf8' }).trim();
  } catch {
    // findmnt missing: leave it unknown
  }
  return [
    `date: ${new Date().toISOString()}`,
    `cpu: ${cpu.length} × ${cpu[0]?.model ?? 'unknown'}`,
    `memory: ${(totalmem() / GiB).toFixed(1)} GiB`,
    `node: ${process.version} (V8 ${process.versions.v8}, libuv ${process.versions.uv}), ${process.platform}/${process.arch}`,
    `bench dir: ${dir} on ${disk}`,
  ];
}
