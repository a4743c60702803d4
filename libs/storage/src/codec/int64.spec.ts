import { readInt64, writeInt64, writeUInt32 } from './int64';

describe('int64 halves', () => {
  it.each([0, 1, -1, 2 ** 32 - 1, 2 ** 32, -(2 ** 32), 2 ** 53 - 1, -(2 ** 53) + 1, -123456789012, 1_764_000_000_123])(
    'round-trips %d and matches writeBigInt64BE',
    (v) => {
      const ours = Buffer.alloc(8);
      writeInt64(ours, v, 0);
      const big = Buffer.alloc(8);
      big.writeBigInt64BE(BigInt(v));
      expect(ours).toEqual(big);
      expect(readInt64(ours, 0)).toBe(v);
    },
  );
});

describe('u32 stores', () => {
  it.each([0, 1, 255, 0x7fffffff, 0x80000000, 0xffffffff, -1, -(2 ** 31)])('store %d as writeUInt32BE / writeInt32BE would', (v) => {
    const ours = Buffer.alloc(4);
    writeUInt32(ours, v, 0);
    const node = Buffer.alloc(4);
    if (v < 0) node.writeInt32BE(v);
    else node.writeUInt32BE(v);
    expect(ours).toEqual(node);
  });
});
