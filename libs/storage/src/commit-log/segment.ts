import { closeSync, constants, fdatasyncSync, ftruncateSync, fstatSync, openSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { segmentName } from '../io/segment-names';

/** One commit-log segment file: bytes [base, base + segmentBytes) of the log. */
export class Segment {
  private closed = false;

  private constructor(
    readonly base: number,
    readonly path: string,
    readonly fd: number,
  ) {}

  static open(dir: string, base: number, create: boolean): Segment {
    const path = join(dir, segmentName(base));
    const flags = constants.O_RDWR | (create ? constants.O_CREAT : 0);
    return new Segment(base, path, openSync(path, flags, 0o644));
  }

  fileBytes(): number {
    return fstatSync(this.fd).size;
  }

  modifiedMs(): number {
    return fstatSync(this.fd).mtimeMs;
  }

  truncate(bytes: number): void {
    ftruncateSync(this.fd, bytes);
  }

  /** fdatasync: the data and the file size are on disk. */
  sync(): void {
    fdatasyncSync(this.fd);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  delete(): void {
    this.close();
    unlinkSync(this.path);
  }
}
