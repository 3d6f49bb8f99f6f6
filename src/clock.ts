/**
 * A source of wall-clock milliseconds. Tests pass a fake; production uses `Date.now` (~60 ns).
 * A clock cached per event-loop turn was tried: it halves a tight loop's cost, but costs 1-2 µs
 * per call in I/O-bound services, where each turn makes one call (bench/http.mjs, profiled).
 */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: Date.now };
