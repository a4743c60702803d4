import { waitFor } from './wait-for';

describe('waitFor', () => {
  it('returns the first truthy value, treating throws as not yet', async () => {
    let calls = 0;
    const value = await waitFor(() => {
      calls++;
      if (calls === 1) throw new Error('not ready');
      return calls >= 3 ? 'ready' : undefined;
    }, { intervalMs: 1 });
    expect(value).toBe('ready');
    expect(calls).toBe(3);
  });

  it('times out naming what it waited for and the last error', async () => {
    await expect(
      waitFor(() => Promise.reject(new Error('refused')), { timeoutMs: 20, intervalMs: 5, what: 'broker' }),
    ).rejects.toThrow('timed out waiting for broker: refused');
  });
});
