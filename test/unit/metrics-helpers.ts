/** Shared by the metrics tests: a clock moved by hand and a seeded random source. */
import { fakeClock as baseClock, type FakeClock } from '../support/clock.js';

export type { FakeClock };
export { gaussian, rng } from '../support/random.js';

/** Starts on a minute boundary so bucket arithmetic in tests is easy to follow. */
export function fakeClock(start = 1_700_000_040_000): FakeClock {
  return baseClock(start);
}
