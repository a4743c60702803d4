import { consistentHash, javaStringHashCode, messageGroupBucket } from './hashing';
import { seededRandom } from '../test/seeded-random';

describe('javaStringHashCode', () => {
  // Values printed by Java's String.hashCode (jshell, OpenJDK).
  it.each([
    ['', 0],
    ['a', 97],
    ['hello', 99162322],
    ['order-42', 1234255197],
    ['ümlaut', -1271410363],
    ['😀', 1772899],
    ['a-very-long-message-group-name-0123456789', -454674195],
  ])('hashes %j like Java', (value, hash) => {
    expect(javaStringHashCode(value)).toBe(hash);
  });
});

describe('consistentHash', () => {
  // Guava's HashingTest.testConsistentHash_linearCongruentialGeneratorCompatibility.
  it('matches Guava golden values', () => {
    const golden100 = [0, 55, 62, 8, 45, 59, 86, 97, 82, 59, 73, 37, 17, 56, 86, 21, 90, 37, 38, 83];
    golden100.forEach((bucket, input) => expect(consistentHash(input, 100)).toBe(bucket));
    expect(consistentHash(10863919174838991n, 11)).toBe(6);
    expect(consistentHash(2016238256797177309n, 11)).toBe(3);
    expect(consistentHash(1673758223894951030n, 11)).toBe(5);
    expect(consistentHash(2, 100001)).toBe(80343);
    expect(consistentHash(2201, 100001)).toBe(22152);
    expect(consistentHash(2202, 100001)).toBe(15018);
  });

  it('treats negative inputs as Java longs', () => {
    expect(consistentHash(-1, 1000)).toBe(consistentHash(2n ** 64n - 1n, 1000));
  });

  it('stays in range and moves a key only to the new bucket when buckets grow (seeded)', () => {
    const random = seededRandom(7);
    const violations: string[] = [];
    for (let i = 0; i < 500; i++) {
      const input = random.int(-(2 ** 31), 2 ** 31 - 1);
      let previous = 0;
      for (let buckets = 1; buckets <= 64; buckets++) {
        const bucket = consistentHash(input, buckets);
        const moved = bucket !== previous;
        if (bucket < 0 || bucket >= buckets || (moved && bucket !== buckets - 1)) {
          violations.push(`input ${input}, ${buckets} buckets → ${bucket} (was ${previous})`);
        }
        previous = bucket;
      }
    }
    expect(violations).toEqual([]);
  });

  it('spreads keys roughly evenly', () => {
    const counts = new Array(8).fill(0);
    for (let i = 0; i < 8000; i++) counts[messageGroupBucket(`group-${i}`, 8)]++;
    for (const count of counts) expect(count).toBeGreaterThan(800);
  });

  it('rejects bad arguments', () => {
    expect(() => consistentHash(1, 0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => consistentHash(1.5, 4)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('messageGroupBucket', () => {
  // Same values as Guava consistentHash(group.hashCode(), n) in jshell.
  it.each([
    ['hello', 8, 4],
    ['hello', 3, 0],
    ['order-42', 8, 3],
    ['order-42', 3, 2],
    ['ümlaut', 8, 6],
    ['😀', 3, 1],
  ])('puts %j among %d queues in bucket %d, as RocketMQ proxy', (group, buckets, bucket) => {
    expect(messageGroupBucket(group, buckets)).toBe(bucket);
  });
});
