import { ApogeeError } from '@apogee/protocol';
import { decodeRecallHandle, encodeRecallHandle, type RecallHandle } from './recall-handle';

const handle: RecallHandle = {
  topic: 'delay-orders',
  brokerName: 'broker-a',
  dueMs: 1_790_000_000_123,
  physicalOffset: 4_294_967_296 * 3 + 17,
  messageId: '01A8C0FFEE0000000000000001',
};

describe('recall handle codec', () => {
  it('round-trips every field, URL-safe', () => {
    const encoded = encodeRecallHandle(handle);
    expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeRecallHandle(encoded)).toEqual(handle);
  });

  it('keeps a message id with spaces (the last field)', () => {
    const odd = { ...handle, messageId: 'id with spaces' };
    expect(decodeRecallHandle(encodeRecallHandle(odd))).toEqual(odd);
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'abc+/='],
    ['too few fields', Buffer.from('v1 topic broker 123').toString('base64url')],
    ['other version', Buffer.from('v2 topic broker 123 5 id').toString('base64url')],
    ['non-numeric due time', Buffer.from('v1 topic broker soon 5 id').toString('base64url')],
    ['negative offset', Buffer.from('v1 topic broker 123 -5 id').toString('base64url')],
  ])('refuses a handle that is %s with BAD_REQUEST', (_why, encoded) => {
    expect(() => decodeRecallHandle(encoded)).toThrow(ApogeeError);
    try {
      decodeRecallHandle(encoded);
    } catch (err) {
      expect((err as ApogeeError).code).toBe('BAD_REQUEST');
      expect((err as Error).message).toMatch(/recall handle is malformed/);
    }
  });
});
