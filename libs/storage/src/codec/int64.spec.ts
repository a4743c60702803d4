import { readInt64, setInt64, writeInt64 } from './int64';

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
      const viaView = Buffer.alloc(8);
      setInt64(new DataView(viaView.buffer, viaView.byteOffset, 8), 0, v);
      expect(viaView).toEqual(big);
    },
  );
});
