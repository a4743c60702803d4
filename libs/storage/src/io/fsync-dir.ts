import { closeSync, fsyncSync, openSync, constants } from 'node:fs';

/** Makes a directory's entries (created, renamed or deleted files) durable. */
export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
