/** A source of wall-clock milliseconds. Tests pass a fake; production uses `Date.now`. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: Date.now };

let turnNow = 0;
let turnValid = false;
const invalidate = () => {
  turnValid = false;
};

/**
 * `Date.now()` read at most once per event-loop turn: the first read in a turn schedules one
 * unref'd `setImmediate` that lets the next turn read again. For per-second window buckets a
 * turn is precise enough, and a busy service does thousands of calls per turn, so the ~45 ns
 * clock read stops being a per-call cost. One immediate per process per turn, only while
 * time-window breakers are used; nothing is kept alive by it.
 */
export const turnClock: Clock = {
  now(): number {
    if (turnValid) return turnNow;
    turnNow = Date.now();
    turnValid = true;
    setImmediate(invalidate).unref();
    return turnNow;
  },
};
