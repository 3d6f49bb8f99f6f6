/** A source of wall-clock milliseconds. Tests pass a fake; production uses `Date.now`. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: Date.now };
