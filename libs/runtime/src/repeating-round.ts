/**
 * A background round run at once on start() and then `intervalMs` after each round ends: rounds
 * never overlap, and a slow one delays the next instead of piling up. The timer is unref'd (it
 * never keeps a process alive); stop() cancels the next round and waits for the one in flight.
 * `round` handles its own errors: a rejection is passed to `onError`.
 */
export class RepeatingRound {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly round: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.round()
        .catch(this.onError)
        .finally(() => {
          this.running = undefined;
          this.schedule(this.intervalMs);
        });
    }, delayMs);
    this.timer.unref();
  }
}
