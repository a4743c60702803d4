import { createGroupConfig, DEFAULT_RETRY_POLICY, retryBackoffMs, type GroupConfigInput, type RetryPolicy } from './group-config';

describe('createGroupConfig', () => {
  it('fills the RocketMQ 5 defaults: not FIFO, 17 deliveries, exponential 5 s ×2 up to 2 h', () => {
    const config = createGroupConfig({ name: 'billing' });
    expect(config).toEqual({
      name: 'billing',
      fifo: false,
      maxDeliveryAttempts: 17,
      retryPolicy: { kind: 'EXPONENTIAL', initialBackoffMs: 5_000, maxBackoffMs: 7_200_000, multiplier: 2 },
      broadcast: false,
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.retryPolicy)).toBe(true);
  });

  it('keeps what is given, copying only the policy fields', () => {
    const policy = { kind: 'CUSTOMIZED', backoffMs: [1_000, 5_000], extra: 1 } as RetryPolicy;
    const config = createGroupConfig({ name: 'g', fifo: true, maxDeliveryAttempts: 3, retryPolicy: policy, broadcast: true });
    expect(config).toEqual({
      name: 'g',
      fifo: true,
      maxDeliveryAttempts: 3,
      retryPolicy: { kind: 'CUSTOMIZED', backoffMs: [1_000, 5_000] },
      broadcast: true,
    });
    expect(Object.isFrozen(config.retryPolicy.kind === 'CUSTOMIZED' && config.retryPolicy.backoffMs)).toBe(true);
  });

  const exponential = (change: Partial<Omit<typeof DEFAULT_RETRY_POLICY, 'kind'>>): RetryPolicy => ({
    ...DEFAULT_RETRY_POLICY,
    ...change,
  });

  it.each<[GroupConfigInput, string, string]>([
    [{ name: 'bad group' }, 'INVALID_GROUP_NAME', 'illegal character'],
    [{ name: 'CID_RMQ_SYS_x' }, 'RESERVED_GROUP', 'reserved'],
    [{ name: 'g', maxDeliveryAttempts: 0 }, 'INVALID_ARGUMENT', 'max delivery attempts 0 is out of range'],
    [{ name: 'g', maxDeliveryAttempts: 1.5 }, 'INVALID_ARGUMENT', 'an integer from 1 to 1000'],
    [{ name: 'g', fifo: 'yes' as unknown as boolean }, 'INVALID_ARGUMENT', 'fifo must be true or false'],
    [{ name: 'g', broadcast: 1 as unknown as boolean }, 'INVALID_ARGUMENT', 'broadcast must be true or false'],
    [{ name: 'g', retryPolicy: exponential({ initialBackoffMs: 1_500 }) }, 'INVALID_ARGUMENT', 'use whole seconds'],
    [{ name: 'g', retryPolicy: exponential({ initialBackoffMs: 0 }) }, 'INVALID_ARGUMENT', 'initial back-off 0 ms'],
    [{ name: 'g', retryPolicy: exponential({ maxBackoffMs: 2_000 }) }, 'INVALID_ARGUMENT', 'shorter than the initial'],
    [{ name: 'g', retryPolicy: exponential({ maxBackoffMs: 90_000_000 }) }, 'INVALID_ARGUMENT', 'max back-off'],
    [{ name: 'g', retryPolicy: exponential({ multiplier: 0.5 }) }, 'INVALID_ARGUMENT', 'multiplier 0.5'],
    [{ name: 'g', retryPolicy: { kind: 'CUSTOMIZED', backoffMs: [] } }, 'INVALID_ARGUMENT', '1 to 64 delays'],
    [{ name: 'g', retryPolicy: { kind: 'CUSTOMIZED', backoffMs: [10, -1] } }, 'INVALID_ARGUMENT', '#2 (-1 ms)'],
    [{ name: 'g', retryPolicy: { kind: 'LINEAR' } as unknown as RetryPolicy }, 'INVALID_ARGUMENT', '"LINEAR" is unknown'],
  ])('refuses %j with %s', (input, code, message) => {
    expect(() => createGroupConfig(input)).toThrow(expect.objectContaining({ code, message: expect.stringContaining(message) }));
  });
});

describe('retryBackoffMs', () => {
  it('grows exponentially from the first retry and stops at the max, as RocketMQ', () => {
    expect([1, 2, 3, 4].map((retry) => retryBackoffMs(DEFAULT_RETRY_POLICY, retry))).toEqual([5_000, 10_000, 20_000, 40_000]);
    expect(retryBackoffMs(DEFAULT_RETRY_POLICY, 11)).toBe(5_000 * 2 ** 10);
    expect(retryBackoffMs(DEFAULT_RETRY_POLICY, 12)).toBe(7_200_000);
    expect(retryBackoffMs(DEFAULT_RETRY_POLICY, 1_000)).toBe(7_200_000);
  });

  it('walks a customized list and repeats its last delay', () => {
    const policy: RetryPolicy = { kind: 'CUSTOMIZED', backoffMs: [100, 200, 300] };
    expect([0, 1, 2, 3, 4, 99].map((retry) => retryBackoffMs(policy, retry))).toEqual([100, 100, 200, 300, 300, 300]);
  });
});
