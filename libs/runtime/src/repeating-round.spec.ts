import { RepeatingRound } from './repeating-round';

/** Polls `until` every millisecond, failing after 2 s. */
async function poll(until: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!until()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

describe('RepeatingRound', () => {
  it('runs at once, then again after each round, never two at a time, and passes failures on', async () => {
    let running = 0;
    let overlapped = false;
    let rounds = 0;
    const errors: unknown[] = [];
    const repeating = new RepeatingRound(
      async () => {
        running++;
        overlapped ||= running > 1;
        rounds++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
        if (rounds === 2) throw new Error('round 2 failed');
      },
      1,
      (err) => errors.push(err),
    );
    repeating.start();
    await poll(() => rounds >= 4, 'four rounds');
    await repeating.stop();
    expect(overlapped).toBe(false);
    expect(errors.map((e) => (e as Error).message)).toEqual(['round 2 failed']);
  });

  it('stop() waits for the round in flight and runs no more', async () => {
    let finished = false;
    let rounds = 0;
    let release!: () => void;
    const repeating = new RepeatingRound(
      async () => {
        rounds++;
        await new Promise<void>((resolve) => (release = resolve));
        finished = true;
      },
      1,
      () => undefined,
    );
    repeating.start();
    await poll(() => rounds === 1, 'the first round');
    const stopped = repeating.stop();
    release();
    await stopped;
    expect(finished).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20)); // a round scheduled after stop would start within 1 ms
    expect(rounds).toBe(1);
  });
});
