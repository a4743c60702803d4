import { closeSync, existsSync, openSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDirSync } from '../io/fsync-dir';

/**
 * The abort marker (`<store>/abort`, empty): created durably when the store opens, removed after
 * the final checkpoint of a clean close. Found at open, it means the last run did not stop cleanly.
 */
const FILE_NAME = 'abort';

export function abortMarkerExists(dir: string): boolean {
  return existsSync(join(dir, FILE_NAME));
}

export function createAbortMarker(dir: string): void {
  closeSync(openSync(join(dir, FILE_NAME), 'w'));
  fsyncDirSync(dir);
}

export function removeAbortMarker(dir: string): void {
  unlinkSync(join(dir, FILE_NAME));
  fsyncDirSync(dir);
}
