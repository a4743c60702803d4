import { countArg, int64Arg } from './dispatch-wire';
import { decodeTimeCursor, encodeTimeCursor } from './time-cursor';

describe('dispatch request arguments', () => {
  it('parses int64 strings and numbers, absent as the fallback', () => {
    expect(int64Arg('1099511627776', 'x')).toBe(2 ** 40);
    expect(int64Arg(7, 'x')).toBe(7);
    expect(int64Arg(undefined, 'x', 5)).toBe(5);
  });

  it.each(['-1', '1.5', 'abc', String(2 ** 60), -3])('refuses %p with INVALID_ARGUMENT', (value) => {
    expect(() => int64Arg(value, 'from_offset')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('defaults and caps counts', () => {
    expect(countArg(undefined, 32, 1000)).toBe(32);
    expect(countArg(0, 32, 1000)).toBe(32);
    expect(countArg(5000, 32, 1000)).toBe(1000);
    expect(countArg(10, 32, 1000)).toBe(10);
  });
});

describe('MessagesByTime cursor', () => {
  it('round-trips and refuses what it did not make', () => {
    expect(decodeTimeCursor(encodeTimeCursor({ queueId: 3, queueOffset: 2 ** 40 }))).toEqual({ queueId: 3, queueOffset: 2 ** 40 });
    for (const bad of ['x', Buffer.from('{"q":-1,"o":0}').toString('base64url'), Buffer.from('[]').toString('base64url')]) {
      expect(() => decodeTimeCursor(bad)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });
});
