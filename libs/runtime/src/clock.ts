/** A source of wall-clock time in milliseconds since the epoch. Inject it; never call Date.now() in logic. */
export interface Clock {
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = Object.freeze({ now: () => Date.now() });
