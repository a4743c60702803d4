import { decodeSnapshot, encodeSnapshot, SNAPSHOT_HEADER_BYTES } from './snapshot-file';

const entries = [
  ['topic-a', JSON.stringify({ queues: 8, perm: 6 })],
  ['ключ', JSON.stringify('value')],
] as const;

describe('snapshot file', () => {
  it('round-trips generation and entries', () => {
    const decoded = decodeSnapshot(encodeSnapshot({ generation: 2 ** 33, entries }));
    expect(decoded.generation).toBe(2 ** 33);
    expect([...decoded.entries]).toEqual([
      ['topic-a', { queues: 8, perm: 6 }],
      ['ключ', 'value'],
    ]);
  });

  it('round-trips an empty map', () => {
    const file = encodeSnapshot({ generation: 0, entries: [] });
    expect(file.length).toBe(SNAPSHOT_HEADER_BYTES);
    expect(decodeSnapshot(file).entries.size).toBe(0);
  });

  it('rejects a flip of any single byte', () => {
    const file = encodeSnapshot({ generation: 3, entries });
    for (let at = 0; at < file.length; at += 1) {
      const copy = Buffer.from(file);
      copy[at] ^= 0x10;
      expect(() => decodeSnapshot(copy)).toThrow();
    }
  });

  it('rejects every truncation', () => {
    const file = encodeSnapshot({ generation: 3, entries });
    for (let cut = 0; cut < file.length; cut += 1) {
      expect(() => decodeSnapshot(file.subarray(0, cut))).toThrow();
    }
  });
});
