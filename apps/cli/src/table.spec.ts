import { formatAge, formatBytes, formatIdRanges, formatTable } from './table';

describe('formatTable', () => {
  it('aligns columns two spaces apart under an upper-case header, without trailing spaces', () => {
    expect(formatTable(['broker', 'id', 'address'], [['broker-a', 0, '127.0.0.1:8081'], ['b', 12, '']])).toBe(
      'BROKER    ID  ADDRESS\n' + 'broker-a  0   127.0.0.1:8081\n' + 'b         12\n',
    );
  });

  it('prints only the header for no rows', () => {
    expect(formatTable(['topic'], [])).toBe('TOPIC\n');
  });
});

describe('formatAge', () => {
  const now = 1_700_000_000_000;
  it.each([
    [0, '<1s ago'],
    [999, '<1s ago'],
    [42_000, '42s ago'],
    [60_000, '1m ago'],
    [185_000, '3m 5s ago'],
    [2 * 3_600_000 + 10 * 60_000, '2h 10m ago'],
    [4 * 86_400_000 + 3_600_000, '4d 1h ago'],
    [-5_000, '<1s ago'],
  ])('%i ms ago is %s', (ageMs, text) => {
    expect(formatAge(now - ageMs, now)).toBe(text);
  });

  it('says never for no heartbeat', () => {
    expect(formatAge(0, now)).toBe('never');
  });
});

describe('formatIdRanges', () => {
  it('joins consecutive ids into ranges', () => {
    expect(formatIdRanges([3, 0, 1, 2, 6, 8, 9])).toBe('0-3,6,8-9');
    expect(formatIdRanges([5])).toBe('5');
    expect(formatIdRanges([])).toBe('');
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [512, '512 B'],
    [1_023, '1023 B'],
    [1_024, '1.0 KiB'],
    [1.2 * 1024 * 1024, '1.2 MiB'],
    [3 * 1024 ** 3, '3.0 GiB'],
    [-5, '0 B'],
  ])('%p bytes is %p', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});
