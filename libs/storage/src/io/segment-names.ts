import { readdirSync } from 'node:fs';

/** Segment files are named by their 20-digit zero-padded base offset, with no suffix. */
const NAME_DIGITS = 20;
const NAME_PATTERN = /^\d{20}$/;

export function segmentName(baseOffset: number): string {
  return String(baseOffset).padStart(NAME_DIGITS, '0');
}

/** Base offsets of the segment files in `dir`, ascending; other files are ignored. */
export function listSegmentBases(dir: string): number[] {
  return readdirSync(dir)
    .filter((name) => NAME_PATTERN.test(name))
    .map(Number)
    .sort((a, b) => a - b);
}
