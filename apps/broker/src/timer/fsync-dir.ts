import { closeSync, fsyncSync, openSync } from 'node:fs';

/** Makes a file creation in `dir` durable (the directory entry itself). */
export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
