import { decodeReceiptHandle, encodeReceiptHandle, newPopId, type ReceiptHandle } from './receipt-handle';

const handle: ReceiptHandle = {
  brokerName: 'broker-a',
  topic: 'orders-é',
  queueId: 7,
  queueOffset: 2 ** 40 + 3,
  deliveryAttempt: 3,
  invisibleUntilMs: 1_700_000_030_000,
  popId: 0xabcdef123456,
};

describe('receipt handles', () => {
  it('round-trips every field as base64url', () => {
    const text = encodeReceiptHandle(handle);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeReceiptHandle(text)).toEqual(handle);
  });

  it('rejects every single-byte change, truncation and extension as malformed', () => {
    const bytes = Buffer.from(encodeReceiptHandle(handle), 'base64url');
    for (let i = 0; i < bytes.length; i++) {
      const changed = Buffer.from(bytes);
      changed[i] ^= 0x01;
      expect(() => decodeReceiptHandle(changed.toString('base64url'))).toThrow(
        expect.objectContaining({ code: 'INVALID_RECEIPT_HANDLE' }),
      );
    }
    for (const text of [bytes.subarray(0, bytes.length - 1), Buffer.concat([bytes, Buffer.from([0])])]) {
      expect(() => decodeReceiptHandle(text.toString('base64url'))).toThrow(/Malformed receipt handle/);
    }
  });

  it('names what is wrong', () => {
    expect(() => decodeReceiptHandle('')).toThrow(/empty/);
    expect(() => decodeReceiptHandle('a b')).toThrow(/not base64url/);
    expect(() => decodeReceiptHandle('AAAA')).toThrow(/too short/);
    const v2 = Buffer.from(encodeReceiptHandle(handle), 'base64url');
    v2[0] = 2;
    expect(() => decodeReceiptHandle(v2.toString('base64url'))).toThrow(/unknown version 2/);
  });

  it('refuses to encode out-of-range fields', () => {
    expect(() => encodeReceiptHandle({ ...handle, deliveryAttempt: 0 })).toThrow(RangeError);
    expect(() => encodeReceiptHandle({ ...handle, topic: 'x'.repeat(256) })).toThrow(RangeError);
    expect(() => encodeReceiptHandle({ ...handle, queueOffset: -1 })).toThrow(RangeError);
  });

  it('makes 48-bit pop ids', () => {
    const id = newPopId();
    expect(Number.isSafeInteger(id) && id >= 0 && id < 2 ** 48).toBe(true);
  });
});
