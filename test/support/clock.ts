/** A clock the test moves by hand; the code under test reads it only when asked (no timers). */
export interface FakeClock {
  t: number;
  now(): number;
  advance(ms: number): void;
}

export function fakeClock(start = 1_700_000_000_000): FakeClock {
  const clock: FakeClock = {
    t: start,
    now: () => clock.t,
    advance: (ms) => {
      clock.t += ms;
    },
  };
  return clock;
}
