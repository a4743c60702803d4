import {
  checkRecord,
  decodeDispatchInfo,
  decodeRecord,
  decodeRecordSummary,
  encodeFiller,
  encodeRecord,
  prepareRecord,
  readPrefix,
  type MessageInput,
} from './record-codec';
import { FIXED_BYTES } from './record-layout';

const place = { queueOffset: 12345678901, physicalOffset: 2 ** 40 + 7, storeTimestampMs: 1_764_000_000_123, storeHost: '10.0.0.1:8081' };
const limits = { maxBodyBytes: 4 << 20, storeHost: Buffer.from(place.storeHost) };

/** A small deterministic PRNG (mulberry32) so property runs are reproducible. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomString(rnd: () => number, max: number, alphabet: string): string {
  const chars = Array.from(alphabet); // code points: never split a surrogate pair
  const n = Math.floor(rnd() * max);
  let s = '';
  for (let i = 0; i < n; i++) s += chars[Math.floor(rnd() * chars.length)];
  return s;
}

function randomMessage(rnd: () => number): MessageInput {
  const text = 'abcXYZ019 _-é漢字🙂';
  const properties: Record<string, string> = {};
  for (let i = Math.floor(rnd() * 5); i > 0; i--) properties[`p${i}${randomString(rnd, 5, 'abc')}`] = randomString(rnd, 20, text);
  return {
    topic: 'T' + randomString(rnd, 40, 'abcdefghijklmnopqrstuvwxyz0123456789_-%|'),
    queueId: Math.floor(rnd() * 1024),
    body: Buffer.from(Array.from({ length: Math.floor(rnd() * 3000) }, () => Math.floor(rnd() * 256))),
    messageId: randomString(rnd, 32, '0123456789ABCDEF'),
    bornTimestampMs: Math.floor(rnd() * 2 ** 45),
    flags: Math.floor(rnd() * 1000),
    bornHost: '127.0.0.1:' + Math.floor(rnd() * 65535),
    keys: Array.from({ length: Math.floor(rnd() * 4) }, () => 'k' + randomString(rnd, 10, text)),
    tag: randomString(rnd, 10, text),
    properties,
  };
}

function encode(m: MessageInput): Buffer {
  const prepared = prepareRecord(m, limits);
  const buf = Buffer.alloc(prepared.totalBytes + 16, 0xee);
  const end = encodeRecord(buf, 8, prepared, place.queueOffset, place.physicalOffset, place.storeTimestampMs);
  expect(end - 8).toBe(prepared.totalBytes);
  return buf.subarray(8, end);
}

describe('record codec', () => {
  it('round-trips random messages (property)', () => {
    const rnd = prng(42);
    for (let i = 0; i < 500; i++) {
      const m = randomMessage(rnd);
      const rec = encode(m);
      expect(readPrefix(rec, 0)).toEqual({ kind: 'message', totalBytes: rec.length });
      expect(checkRecord(rec, 0, place.physicalOffset)).toBeNull();
      const d = decodeRecord(rec, 0);
      expect(d).toEqual({
        topic: m.topic,
        queueId: m.queueId,
        queueOffset: place.queueOffset,
        physicalOffset: place.physicalOffset,
        totalBytes: rec.length,
        flags: m.flags,
        bornTimestampMs: m.bornTimestampMs,
        storeTimestampMs: place.storeTimestampMs,
        bornHost: m.bornHost,
        storeHost: place.storeHost,
        messageId: m.messageId,
        keys: m.keys,
        tag: m.tag,
        properties: m.properties,
        body: m.body,
      });
      const info = decodeDispatchInfo(rec, 0);
      expect(info).toMatchObject({ topic: m.topic, tag: m.tag, queueId: m.queueId, totalBytes: rec.length });
      const { topic, queueId, queueOffset, physicalOffset, totalBytes, tag, storeTimestampMs, messageId, keys } = d;
      const summary = { topic, queueId, queueOffset, physicalOffset, totalBytes, tag, storeTimestampMs, messageId, keys };
      expect(decodeRecordSummary(rec, 0)).toEqual(summary);
    }
  });

  it('detects any single flipped byte (property)', () => {
    const rnd = prng(7);
    for (let i = 0; i < 300; i++) {
      const rec = Buffer.from(encode(randomMessage(rnd)));
      const at = Math.floor(rnd() * rec.length);
      rec[at] ^= 1 + Math.floor(rnd() * 255);
      const prefix = readPrefix(rec, 0);
      const intact = prefix.kind === 'message' && prefix.totalBytes === rec.length && checkRecord(rec, 0, place.physicalOffset) === null;
      expect(intact).toBe(false);
    }
  });

  it('rejects a record read at the wrong physical offset', () => {
    const rec = encode(randomMessage(prng(1)));
    expect(checkRecord(rec, 0, place.physicalOffset + 1)).toBe('physical offset mismatch');
  });

  it('tells empty space, fillers and garbage apart', () => {
    expect(readPrefix(Buffer.alloc(8), 0)).toEqual({ kind: 'empty' });
    const filler = Buffer.alloc(8);
    encodeFiller(filler, 0, 4096);
    expect(readPrefix(filler, 0)).toEqual({ kind: 'filler', totalBytes: 4096 });
    expect(readPrefix(Buffer.from('garbage!'), 0).kind).toBe('bad');
    const short = encode(randomMessage(prng(3)));
    short.writeInt32BE(FIXED_BYTES - 1, 0);
    expect(readPrefix(short, 0)).toEqual({ kind: 'bad', reason: 'record shorter than its header' });
  });

  it('enforces limits and name rules with clear errors', () => {
    const base = randomMessage(prng(9));
    expect(() => prepareRecord({ ...base, body: Buffer.alloc(11) }, { maxBodyBytes: 10, storeHost: Buffer.alloc(0) })).toThrow(
      'message body is 11 bytes; the limit is 10 bytes',
    );
    expect(() => prepareRecord({ ...base, topic: 'a/b' }, limits)).toThrow(/topic "a\/b" is invalid/);
    expect(() => prepareRecord({ ...base, topic: 'x'.repeat(128) }, limits)).toThrow(/1-127 characters/);
    expect(() => prepareRecord({ ...base, queueId: -1 }, limits)).toThrow(/queueId -1 is invalid/);
    expect(() => prepareRecord({ ...base, keys: ['a\u0001b'] }, limits)).toThrow(/message key/);
    expect(() => prepareRecord({ ...base, tag: 'x'.repeat(256) }, limits)).toThrow('tag is 256 bytes; at most 255 are allowed');
    expect(() => prepareRecord({ ...base, properties: { k: 'v\u0002' } }, limits)).toThrow(/property "k" is invalid/);
  });
});

describe('string sizes', () => {
  it('match Buffer.byteLength for ASCII, multi-byte, surrogate pairs and lone surrogates', () => {
    const samples = ['', 'abc', 'é', '漢字', '🙂', 'a🙂b', '\ud83d', 'x\udc00y', 'é'.repeat(70), 'a'.repeat(65)];
    for (const tag of samples) {
      const bytes = Buffer.byteLength(tag);
      if (bytes > 255) continue;
      const prepared = prepareRecord({ ...randomMessage(prng(5)), tag }, limits);
      expect(prepared.tagBytes).toBe(bytes);
    }
    for (const key of samples.filter((s) => s.length > 0)) {
      expect(prepareRecord({ ...randomMessage(prng(6)), keys: [key] }, limits).keysBytes).toBe(Buffer.byteLength(key));
    }
  });
});
