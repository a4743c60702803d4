import {
  GROUP_MAX_LENGTH,
  TOPIC_MAX_LENGTH,
  validateBrokerName,
  validateClusterName,
  validateGroupName,
  validateMessageGroup,
  validateMessageKeys,
  validateTag,
  validateTopicName,
  validateConsumableTopicName,
} from './names';
import { RoutingError } from './routing-error';
import { seededRandom } from '../test/seeded-random';

function errorOf(fn: () => void): RoutingError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RoutingError) return error;
    throw error;
  }
  throw new Error('expected a RoutingError');
}

const LEGAL = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789%|_-';

describe('validateConsumableTopicName', () => {
  it('accepts plain and dead-letter topics, refuses other reserved ones', () => {
    expect(() => validateConsumableTopicName('orders')).not.toThrow();
    expect(() => validateConsumableTopicName('%DLQ%billing')).not.toThrow();
    expect(errorOf(() => validateConsumableTopicName('%RETRY%billing')).code).toBe('RESERVED_TOPIC');
    expect(errorOf(() => validateConsumableTopicName('RMQ_SYS_TRACE_TOPIC')).code).toBe('RESERVED_TOPIC');
  });
});

describe('validateTopicName', () => {
  it.each(['orders', 'Order_Events-2', 'a', 'x'.repeat(TOPIC_MAX_LENGTH), 'a|b', '100%'])('accepts %s', (name) => {
    expect(() => validateTopicName(name)).not.toThrow();
  });

  it('rejects an empty name and says what is allowed', () => {
    const error = errorOf(() => validateTopicName(''));
    expect(error.code).toBe('INVALID_TOPIC_NAME');
    expect(error.message).toMatch(/empty.*\^\[%\|a-zA-Z0-9_-\]\+\$/);
  });

  it.each([
    ['a b', ' ', 1],
    ['topic.v1', '.', 5],
    ['tópico', 'ó', 1],
    ['a/b', '/', 1],
    ['a\tb', '\t', 1],
  ])('rejects %j, naming the character %j at index %d', (name, ch, index) => {
    const error = errorOf(() => validateTopicName(name));
    expect(error.code).toBe('INVALID_TOPIC_NAME');
    expect(error.message).toContain(`${JSON.stringify(ch)} at index ${index}`);
    expect(error.message).toContain('allowed');
  });

  it('limits ordinary topics to 127 characters and retry/DLQ topics to 255', () => {
    const error = errorOf(() => validateTopicName('x'.repeat(TOPIC_MAX_LENGTH + 1)));
    expect(error.code).toBe('INVALID_TOPIC_NAME');
    expect(error.message).toContain('at most 127');
    const retry = `%RETRY%${'g'.repeat(248)}`;
    expect(() => validateTopicName(retry, { allowReserved: true })).not.toThrow();
    expect(errorOf(() => validateTopicName(`${retry}g`, { allowReserved: true })).message).toContain('at most 255');
  });

  it.each(['TBW102', 'rmq_sys_anything', '%RETRY%group', '%DLQ%group', 'RMQ_SYS_TRANS_HALF_TOPIC'])(
    'reserves %s unless allowed',
    (name) => {
      expect(errorOf(() => validateTopicName(name)).code).toBe('RESERVED_TOPIC');
      expect(() => validateTopicName(name, { allowReserved: true })).not.toThrow();
    },
  );

  it('agrees with the RocketMQ regex on random strings (seeded)', () => {
    const random = seededRandom(1);
    const alphabet = `${LEGAL} .:/\\@#éß\u0000\u007f`;
    for (let i = 0; i < 2000; i++) {
      const name = Array.from({ length: random.int(1, 12) }, () => random.pick([...alphabet])).join('');
      const legal = /^[%|a-zA-Z0-9_-]+$/.test(name);
      let thrown: RoutingError | undefined;
      try {
        validateTopicName(name, { allowReserved: true });
      } catch (error) {
        thrown = error as RoutingError;
      }
      expect({ name, ok: thrown === undefined }).toEqual({ name, ok: legal });
    }
  });
});

describe('validateGroupName', () => {
  it('accepts legal names up to 120 characters', () => {
    expect(() => validateGroupName('GID_orders-1')).not.toThrow();
    expect(() => validateGroupName('g'.repeat(GROUP_MAX_LENGTH))).not.toThrow();
  });

  it('rejects blank, illegal and too long names', () => {
    expect(errorOf(() => validateGroupName('')).code).toBe('INVALID_GROUP_NAME');
    expect(errorOf(() => validateGroupName('my group')).code).toBe('INVALID_GROUP_NAME');
    const tooLong = errorOf(() => validateGroupName('g'.repeat(GROUP_MAX_LENGTH + 1)));
    expect(tooLong.code).toBe('INVALID_GROUP_NAME');
    expect(tooLong.message).toContain('at most 120');
  });

  it('reserves CID_RMQ_SYS_ groups unless allowed', () => {
    expect(errorOf(() => validateGroupName('CID_RMQ_SYS_TRANS')).code).toBe('RESERVED_GROUP');
    expect(() => validateGroupName('CID_RMQ_SYS_TRANS', { allowReserved: true })).not.toThrow();
  });
});

describe('cluster and broker names', () => {
  it('accept letters, digits, _ and -', () => {
    expect(() => validateClusterName('DefaultCluster')).not.toThrow();
    expect(() => validateBrokerName('broker-a_1')).not.toThrow();
  });

  it.each(['', 'broker.a', 'broker%a', 'a|b', 'b'.repeat(101)])('reject %j', (name) => {
    expect(errorOf(() => validateBrokerName(name)).code).toBe('INVALID_BROKER_NAME');
    expect(errorOf(() => validateClusterName(name)).code).toBe('INVALID_CLUSTER_NAME');
  });
});

describe('validateTag', () => {
  it.each(['', 'TagA', 'tag with spaces', '*', 'ünïcode'])('accepts %j', (tag) => {
    expect(() => validateTag(tag)).not.toThrow();
  });

  it.each([
    [' ', /whitespace/],
    ['\t ', /whitespace/],
    ['a||b', /'\|'/],
    ['a|b', /'\|'/],
    ['a\u0000', /control character at index 1/],
    ['a\u0085b', /control character at index 1/],
  ])('rejects %j', (tag, message) => {
    const error = errorOf(() => validateTag(tag));
    expect(error.code).toBe('INVALID_TAG');
    expect(error.message).toMatch(message);
  });
});

describe('validateMessageKeys', () => {
  it('accepts printable keys and an empty list', () => {
    expect(() => validateMessageKeys([])).not.toThrow();
    expect(() => validateMessageKeys(['order-1', 'user 42'])).not.toThrow();
  });

  it('rejects blank keys and control characters, naming the key', () => {
    expect(errorOf(() => validateMessageKeys(['ok', ''])).message).toContain('#1');
    expect(errorOf(() => validateMessageKeys(['  '])).code).toBe('INVALID_MESSAGE_KEY');
    expect(errorOf(() => validateMessageKeys(['a\nb'])).code).toBe('INVALID_MESSAGE_KEY');
  });
});

describe('validateMessageGroup', () => {
  it('accepts groups shorter than 64 UTF-8 bytes', () => {
    expect(() => validateMessageGroup('order-42')).not.toThrow();
    expect(() => validateMessageGroup('g'.repeat(63))).not.toThrow();
    expect(() => validateMessageGroup('é'.repeat(31))).not.toThrow();
  });

  it('counts UTF-8 bytes, not characters', () => {
    expect(errorOf(() => validateMessageGroup('g'.repeat(64))).message).toContain('64 bytes');
    expect(errorOf(() => validateMessageGroup('é'.repeat(32))).message).toContain('is 64 bytes');
    expect(errorOf(() => validateMessageGroup('😀'.repeat(16))).message).toContain('is 64 bytes');
    expect(() => validateMessageGroup('g'.repeat(100), 128)).not.toThrow();
  });

  it('rejects blank groups and control characters', () => {
    expect(errorOf(() => validateMessageGroup('')).code).toBe('INVALID_MESSAGE_GROUP');
    expect(errorOf(() => validateMessageGroup(' ')).code).toBe('INVALID_MESSAGE_GROUP');
    expect(errorOf(() => validateMessageGroup('a\u007f')).code).toBe('INVALID_MESSAGE_GROUP');
  });
});
