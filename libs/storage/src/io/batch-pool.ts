/**
 * A fixed set of reusable batch buffers: records are encoded in place, no Buffer per record.
 * When every pooled buffer is in use, `take` allocates a temporary one that `give` drops, so
 * a burst costs garbage rather than a stall. Every buffer has an ArrayBuffer of its own, so it
 * can move to the write thread and back (commit-log/write-worker.ts).
 */
export class BatchPool {
  private readonly free: Buffer[] = [];
  private created = 0;

  constructor(
    readonly bufferBytes: number,
    private readonly maxPooled: number,
  ) {}

  take(minBytes: number): Buffer {
    if (minBytes > this.bufferBytes) return Buffer.allocUnsafeSlow(minBytes);
    const reused = this.free.pop();
    if (reused) return reused;
    if (this.created < this.maxPooled) this.created++;
    return Buffer.allocUnsafeSlow(this.bufferBytes);
  }

  give(buf: Buffer): void {
    if (buf.length === this.bufferBytes && this.free.length < this.maxPooled) this.free.push(buf);
  }
}

