/** Human output: compact aligned tables (as `kubectl get` or mqadmin print them) and ages. */

const GAP = '  ';
const SECOND_MS = 1_000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

export type Cell = string | number;

/** Left-aligned columns, two spaces apart, under an upper-case header; no trailing spaces. */
export function formatTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const lines = [headers.map((h) => h.toUpperCase()), ...rows.map((row) => row.map(String))];
  const widths = headers.map((_, column) => Math.max(...lines.map((line) => (line[column] ?? '').length)));
  return lines
    .map((line) =>
      line
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join(GAP)
        .trimEnd(),
    )
    .join('\n')
    .concat('\n');
}

/** Larger unit first, with the next smaller unit as the remainder. */
const AGE_UNITS: readonly [number, string, number, string][] = [
  [DAY_MS, 'd', HOUR_MS, 'h'],
  [HOUR_MS, 'h', MINUTE_MS, 'm'],
  [MINUTE_MS, 'm', SECOND_MS, 's'],
];

/** How long ago `thenMs` was, coarsely: '<1s ago', '42s ago', '3m 5s ago', '2h ago', '4d 1h ago'. */
export function formatAge(thenMs: number, nowMs: number): string {
  if (!thenMs) return 'never';
  const ageMs = Math.max(0, nowMs - thenMs);
  if (ageMs < SECOND_MS) return '<1s ago';
  for (const [unitMs, unit, restUnitMs, restUnit] of AGE_UNITS) {
    if (ageMs < unitMs) continue;
    const rest = Math.floor((ageMs % unitMs) / restUnitMs);
    return `${Math.floor(ageMs / unitMs)}${unit}${rest > 0 ? ` ${rest}${restUnit}` : ''} ago`;
  }
  return `${Math.floor(ageMs / SECOND_MS)}s ago`;
}

/** Queue ids as ranges: [0,1,2,3,6] → '0-3,6'. */
export function formatIdRanges(ids: readonly number[]): string {
  const sorted = [...ids].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] as number) + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

const BYTE_UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** A byte count in binary units, one decimal: '0 B', '512 B', '1.2 MiB', '3.0 GiB'. */
export function formatBytes(bytes: number): string {
  if (!(bytes >= 1_024)) return `${Math.max(0, Math.round(bytes || 0))} B`;
  let value = bytes;
  let unit = 'B';
  for (const next of BYTE_UNITS) {
    if (value < 1_024) break;
    value /= 1_024;
    unit = next;
  }
  // 1023.96 KiB rounds to '1024.0 KiB': fine for a lag column, and it never says '1.0 MiB' for less.
  return `${value.toFixed(1)} ${unit}`;
}
