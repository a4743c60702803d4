/** int64 fields as two 32-bit halves of a JS number (no BigInt); |values| stay below 2^53. */
const TWO_32 = 4294967296;

/** Big-endian, by byte stores: no per-call validation on the hot path. */
export function writeInt64(buf: Buffer, value: number, at: number): number {
  const high = Math.floor(value / TWO_32);
  const hi = high >>> 0;
  const lo = (value - high * TWO_32) >>> 0;
  buf[at] = hi >>> 24;
  buf[at + 1] = hi >>> 16;
  buf[at + 2] = hi >>> 8;
  buf[at + 3] = hi;
  buf[at + 4] = lo >>> 24;
  buf[at + 5] = lo >>> 16;
  buf[at + 6] = lo >>> 8;
  buf[at + 7] = lo;
  return at + 8;
}

export function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * TWO_32 + buf.readUInt32BE(at + 4);
}

/** The same through a DataView (its big-endian stores are inlined by V8: the record encoder's header). */
export function setInt64(dv: DataView, at: number, value: number): void {
  const high = Math.floor(value / TWO_32);
  dv.setUint32(at, high >>> 0);
  dv.setUint32(at + 4, (value - high * TWO_32) >>> 0);
}
