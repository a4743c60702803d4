/** int64 fields as two 32-bit halves of a JS number (values stay below 2^53; no BigInt). */
const TWO_32 = 4294967296;

export function writeInt64(buf: Buffer, value: number, at: number): number {
  const hi = Math.floor(value / TWO_32);
  buf.writeInt32BE(hi, at);
  buf.writeUInt32BE(value - hi * TWO_32, at + 4);
  return at + 8;
}

export function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * TWO_32 + buf.readUInt32BE(at + 4);
}
