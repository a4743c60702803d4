import { ROUTING_ERROR_CODES, RoutingError, quote } from './routing-error';

describe('RoutingError', () => {
  it('carries a stable code, is not retriable and keeps its cause', () => {
    const cause = new Error('inner');
    const error = new RoutingError('INVALID_TOPIC_NAME', 'bad topic', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('RoutingError');
    expect(error.code).toBe('INVALID_TOPIC_NAME');
    expect(error.retriable).toBe(false);
    expect(error.cause).toBe(cause);
    expect(error.message).toBe('bad topic');
  });

  it('lists every code once, in SCREAMING_SNAKE_CASE', () => {
    expect(new Set(ROUTING_ERROR_CODES).size).toBe(ROUTING_ERROR_CODES.length);
    for (const code of ROUTING_ERROR_CODES) expect(code).toMatch(/^[A-Z]+(_[A-Z]+)*$/);
  });

  it('quotes values and shortens long ones', () => {
    expect(quote('a"b')).toBe('"a\\"b"');
    expect(quote('x'.repeat(100), 10)).toBe(`"${'x'.repeat(10)}…"`);
  });
});
