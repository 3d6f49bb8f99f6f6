import type { RecoveryStrategy, StrategyStat } from './types.js';

interface Cell {
  attempts: number;
  successes: number;
  rollbacks: number;
  totalDurationMs: number;
}

const OTHER = '(other)';

/**
 * Attempts and successes per strategy and failure type (spec 2.4.2 "analyze success rates"), and
 * the order they suggest. Bounded: past `maxFailureTypes` types, new ones share one `(other)` row
 * (a custom failure-type function must not grow this without end).
 */
export class StrategyStats {
  private readonly cells = new Map<string, Map<RecoveryStrategy, Cell>>();

  constructor(private readonly maxFailureTypes = 256) {}

  record(strategy: RecoveryStrategy, failureType: string, success: boolean, durationMs: number, rolledBack: boolean): void {
    let byStrategy = this.cells.get(failureType);
    if (!byStrategy) {
      const type = this.cells.size >= this.maxFailureTypes ? OTHER : failureType;
      byStrategy = this.cells.get(type) ?? new Map();
      this.cells.set(type, byStrategy);
    }
    let cell = byStrategy.get(strategy);
    if (!cell) byStrategy.set(strategy, (cell = { attempts: 0, successes: 0, rollbacks: 0, totalDurationMs: 0 }));
    cell.attempts++;
    if (success) cell.successes++;
    if (rolledBack) cell.rollbacks++;
    cell.totalDurationMs += durationMs;
  }

  /**
   * The success rate with one success and one failure assumed beforehand (Laplace's rule): an
   * untried strategy scores 0.5, one success in one try 0.67, so one lucky try does not outrank
   * a long record, and a strategy that failed once is not written off.
   */
  score(strategy: RecoveryStrategy, failureType: string): number {
    const cell = this.cells.get(failureType)?.get(strategy);
    return ((cell?.successes ?? 0) + 1) / ((cell?.attempts ?? 0) + 2);
  }

  /**
   * `chain` (the plan's automatic strategies, in its order) best first for `failureType`; ties
   * keep the plan's order. With probability `epsilon` a random strategy goes first instead
   * (epsilon-greedy), so one that failed early still gets tried now and then and can earn its place.
   */
  order(chain: readonly RecoveryStrategy[], failureType: string, epsilon: number, random: () => number): { strategies: RecoveryStrategy[]; explored: boolean } {
    const ranked = chain
      .map((s, i) => ({ s, i, score: this.score(s, failureType) }))
      .sort((a, b) => b.score - a.score || a.i - b.i)
      .map((x) => x.s);
    if (ranked.length < 2 || !(random() < epsilon)) return { strategies: ranked, explored: false };
    const pick = Math.min(ranked.length - 1, Math.floor(random() * ranked.length));
    const first = ranked[pick]!;
    return { strategies: [first, ...ranked.filter((s) => s !== first)], explored: pick !== 0 };
  }

  list(): StrategyStat[] {
    const out: StrategyStat[] = [];
    for (const [failureType, byStrategy] of this.cells) {
      for (const [strategy, c] of byStrategy) {
        out.push({
          strategy,
          failureType,
          attempts: c.attempts,
          successes: c.successes,
          successRate: c.attempts ? c.successes / c.attempts : 0,
          rollbacks: c.rollbacks,
          meanDurationMs: c.attempts ? c.totalDurationMs / c.attempts : 0,
        });
      }
    }
    return out;
  }
}
