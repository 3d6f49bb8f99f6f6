import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CircuitBreaker,
  REJECTED,
  TimeWindow,
  isCircuitOpenError,
  type BreakerOptions,
  type CircuitState,
  type Fallback,
} from '../../src/breaker/index.js';
import { fakeClock } from './breaker-helpers.js';

// Fixed seeds: a failure is reproducible as it stands; change the seed locally to explore.
const RUNS = { seed: 20_240_601, numRuns: 200 } as const;
const STATES: readonly CircuitState[] = ['closed', 'open', 'half-open'];

/** A fraction k/n that need not be exact in binary, like the thresholds people write (0.28, 0.55). */
const ratio = fc.integer({ min: 1, max: 40 }).chain((n) => fc.integer({ min: 0, max: n }).map((k) => k / n));

const breakerOptions: fc.Arbitrary<BreakerOptions> = fc
  .record({
    windowSize: fc.integer({ min: 1, max: 12 }),
    minimumFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    failureThreshold: ratio,
    resetTimeout: fc.integer({ min: 0, max: 3_000 }),
    extraMaxReset: fc.integer({ min: 0, max: 20_000 }),
    backoffMultiplier: fc.double({ min: 1, max: 4, noNaN: true }),
    jitter: fc.double({ min: 0, max: 1, noNaN: true }),
    halfOpenRequestLimit: fc.integer({ min: 1, max: 6 }),
    halfOpenSuccessThreshold: ratio,
    slowCallRateThreshold: fc.oneof(fc.constant(1), ratio),
  })
  .map((o) => ({
    windowSize: o.windowSize,
    minimumRequests: Math.max(1, Math.ceil(o.minimumFraction * o.windowSize)),
    failureThreshold: o.failureThreshold,
    resetTimeout: o.resetTimeout,
    maxResetTimeout: o.resetTimeout + o.extraMaxReset,
    backoffMultiplier: o.backoffMultiplier,
    jitter: o.jitter,
    halfOpenRequestLimit: o.halfOpenRequestLimit,
    halfOpenSuccessThreshold: o.halfOpenSuccessThreshold,
    slowCallRateThreshold: o.slowCallRateThreshold,
    slowCallDurationThreshold: 100,
  }));

type Op =
  | { op: 'acquire'; n: number } // n > 1: concurrent probes
  | { op: 'succeed' | 'fail'; i: number; durationMs: number }
  | { op: 'release'; i: number }
  | { op: 'advance'; ms: number }
  | { op: 'read' }
  | { op: 'forceOpen' }
  | { op: 'reset' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('acquire' as const), n: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('succeed' as const), i: fc.nat(), durationMs: fc.integer({ min: 0, max: 200 }) }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('fail' as const), i: fc.nat(), durationMs: fc.integer({ min: 0, max: 200 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('release' as const), i: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.oneof(fc.integer({ min: 0, max: 5_000 }), fc.constant(1e9)) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'read' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'forceOpen' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'reset' as const }) },
);

describe('breaker invariants under random operation sequences', () => {
  it('never has more than halfOpenRequestLimit probes outstanding, counts every call once, and stays in a valid state', () => {
    fc.assert(
      fc.property(breakerOptions, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.array(op, { maxLength: 150, size: 'max' }), (options, random, ops) => {
        const clock = fakeClock();
        const breaker = new CircuitBreaker('prop', options, { clock, random: () => random });
        const limit = breaker.options.halfOpenRequestLimit;
        /** Admitted calls not yet settled or released; `current` is false once a transition made them stale. */
        const outstanding: Array<{ permit: number; current: boolean }> = [];
        let state = 'closed' as CircuitState; // (widened: the listener moves it)
        let settled = 0;
        let rejected = 0;
        // Listener exceptions are swallowed by design, so the listener only notes what it saw.
        const bad: string[] = [];
        breaker.onStateChange((c) => {
          if (c.from !== state) bad.push(`transition from ${c.from} while the last one went to ${state}`);
          if (!(c.failureRate >= 0 && c.failureRate <= 1)) bad.push(`event failureRate ${c.failureRate}`);
          state = c.to;
          for (const o of outstanding) o.current = false;
        });

        for (const o of ops) {
          switch (o.op) {
            case 'acquire':
              for (let k = 0; k < o.n; k++) {
                const permit = breaker.tryAcquire();
                if (permit === REJECTED) rejected++;
                else outstanding.push({ permit, current: true });
              }
              break;
            case 'succeed':
            case 'fail':
            case 'release': {
              if (outstanding.length === 0) break;
              const [call] = outstanding.splice(o.i % outstanding.length, 1);
              if (o.op === 'release') breaker.release(call!.permit);
              else {
                if (o.op === 'succeed') breaker.recordSuccess(call!.permit, o.durationMs);
                else breaker.recordFailure(call!.permit, o.durationMs);
                settled++;
              }
              break;
            }
            case 'advance':
              clock.advance(o.ms);
              break;
            case 'read':
              expect(STATES).toContain(breaker.state);
              break;
            case 'forceOpen':
              breaker.forceOpen();
              break;
            case 'reset':
              breaker.reset();
              break;
          }

          expect(bad).toEqual([]);
          // (a) probes outstanding in the current half-open period
          if (state === 'half-open') {
            expect(outstanding.filter((c) => c.current).length).toBeLessThanOrEqual(limit);
          }
          // (b) every issued call is counted exactly once, as success, failure or rejection
          expect(breaker.successes + breaker.failures + breaker.rejections).toBe(settled + rejected);
          // (c) valid state and rates
          expect(STATES).toContain(breaker.toJSON().state);
          expect(breaker.failureRate).toBeGreaterThanOrEqual(0);
          expect(breaker.failureRate).toBeLessThanOrEqual(1);
          expect(breaker.slowCallRate).toBeGreaterThanOrEqual(0);
          expect(breaker.slowCallRate).toBeLessThanOrEqual(1);
          expect(breaker.windowCalls).toBeLessThanOrEqual(breaker.options.windowSize);
          const retryAt = breaker.retryAt;
          if (retryAt !== undefined && retryAt !== Infinity) {
            expect(retryAt).toBeLessThanOrEqual(clock.t + breaker.options.maxResetTimeout);
          }
        }
      }),
      RUNS,
    );
  });

  it('half-open always admits a new probe once every earlier probe has settled or been released, until it decides', () => {
    // No deadlock: undecided, a half-open breaker with nothing in flight must let a probe through.
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        ratio,
        fc.array(fc.constantFrom('succeed', 'fail', 'release'), { minLength: 1, maxLength: 30, size: 'max' }),
        (limit, successThreshold, outcomes) => {
          const clock = fakeClock();
          const breaker = new CircuitBreaker(
            'prop',
            { minimumRequests: 1, halfOpenRequestLimit: limit, halfOpenSuccessThreshold: successThreshold, jitter: 0 },
            { clock },
          );
          breaker.recordFailure(breaker.tryAcquire());
          clock.advance(breaker.retryAt! - clock.t);
          for (const outcome of outcomes) {
            if (breaker.state !== 'half-open') return;
            const permit = breaker.tryAcquire();
            expect(permit).not.toBe(REJECTED);
            if (outcome === 'succeed') breaker.recordSuccess(permit);
            else if (outcome === 'fail') breaker.recordFailure(permit);
            else breaker.release(permit);
          }
        },
      ),
      RUNS,
    );
  });
});

describe('trip decisions against a reference model', () => {
  it('a closed count-window breaker opens exactly when failures/total of the last windowSize calls reaches failureThreshold, once minimumRequests calls are in', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }).chain((windowSize) =>
          fc.record({ windowSize: fc.constant(windowSize), minimumRequests: fc.integer({ min: 1, max: windowSize }) }),
        ),
        ratio,
        fc.array(fc.boolean(), { maxLength: 80, size: 'max' }),
        ({ windowSize, minimumRequests }, failureThreshold, outcomes) => {
          const breaker = new CircuitBreaker('model', { windowSize, minimumRequests, failureThreshold }, { clock: fakeClock() });
          const window: boolean[] = [];
          for (const failed of outcomes) {
            window.push(failed);
            if (window.length > windowSize) window.shift();
            const permit = breaker.tryAcquire();
            if (failed) breaker.recordFailure(permit);
            else breaker.recordSuccess(permit);
            const rate = window.filter(Boolean).length / window.length;
            const shouldOpen = window.length >= minimumRequests && rate >= failureThreshold;
            expect(breaker.state).toBe(shouldOpen ? 'open' : 'closed');
            if (shouldOpen) return;
            expect(breaker.failureRate).toBe(rate);
          }
        },
      ),
      RUNS,
    );
  });

  it('a failure rate of exactly k/n opens a breaker whose failureThreshold is written as k/n', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 1, max: n }))),
        ([n, k]) => {
          const breaker = new CircuitBreaker('exact', { windowSize: n, minimumRequests: n, failureThreshold: k / n }, { clock: fakeClock() });
          for (let i = 0; i < n - k; i++) breaker.recordSuccess(breaker.tryAcquire());
          for (let i = 0; i < k; i++) breaker.recordFailure(breaker.tryAcquire());
          expect(breaker.failureRate).toBe(k / n);
          expect(breaker.state).toBe('open');
        },
      ),
      RUNS,
    );
  });

  it('k of n successful probes close a half-open breaker whose halfOpenSuccessThreshold is written as k/n', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 1, max: n }))),
        ([n, k]) => {
          const clock = fakeClock();
          const breaker = new CircuitBreaker(
            'exact',
            { minimumRequests: 1, halfOpenRequestLimit: n, halfOpenSuccessThreshold: k / n, jitter: 0 },
            { clock },
          );
          expect(breaker.options.probesToClose).toBe(k);
          breaker.recordFailure(breaker.tryAcquire());
          clock.advance(breaker.options.resetTimeout);
          for (let i = 0; i < k - 1; i++) breaker.recordSuccess(breaker.tryAcquire());
          expect(breaker.state).toBe('half-open');
          breaker.recordSuccess(breaker.tryAcquire());
          expect(breaker.state).toBe('closed');
        },
      ),
      RUNS,
    );
  });

  it('the n-th consecutive open interval is resetTimeout × multiplier^(n-1), capped at maxResetTimeout, shortened by jitter × random', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.double({ min: 1, max: 5, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 12 }),
        (resetTimeout, extra, backoffMultiplier, jitter, random, trips) => {
          const clock = fakeClock(0);
          const options = { minimumRequests: 1, halfOpenRequestLimit: 1, resetTimeout, maxResetTimeout: resetTimeout + extra, backoffMultiplier, jitter };
          const breaker = new CircuitBreaker('backoff', options, { clock, random: () => random });
          breaker.recordFailure(breaker.tryAcquire());
          for (let n = 1; n <= trips; n++) {
            const base = Math.min(options.maxResetTimeout, resetTimeout * backoffMultiplier ** (n - 1));
            const interval = breaker.retryAt! - clock.t;
            expect(interval).toBeCloseTo(base * (1 - jitter * random), 6);
            expect(interval).toBeLessThanOrEqual(options.maxResetTimeout + 1e-6); // retryAt - now rounds
            clock.advance(interval);
            breaker.recordFailure(breaker.tryAcquire()); // the probe fails: trip n + 1
            expect(breaker.retryAt).toBeDefined(); // open (read without the clock check of `state`)
          }
        },
      ),
      RUNS,
    );
  });
});

describe('TimeWindow against a reference model', () => {
  type Step = { kind: 'record'; failed: boolean; slow: boolean } | { kind: 'move'; ms: number };
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ kind: fc.constant('record' as const), failed: fc.boolean(), slow: fc.boolean() }),
    fc.record({
      kind: fc.constant('move' as const),
      // mostly small steps, sometimes a jump far past the window, sometimes the clock stepping back
      ms: fc.oneof(
        { weight: 6, arbitrary: fc.integer({ min: 0, max: 2_500 }) },
        { weight: 1, arbitrary: fc.integer({ min: 10_000, max: 1e9 }) },
        { weight: 1, arbitrary: fc.integer({ min: -60_000, max: -1 }) },
      ),
    }),
  );

  it('holds exactly the outcomes recorded in the last `seconds` one-second buckets (clock jumps and steps back included)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(step, { maxLength: 150, size: 'max' }), (seconds, steps) => {
        const w = new TimeWindow(seconds);
        let now = 1_700_000_000_000;
        // Model: each outcome is stamped with the newest second seen so far (a clock stepping
        // back counts into the newest bucket) and stays until that second is `seconds` old.
        let newest = 0;
        let kept: Array<{ sec: number; failed: boolean; slow: boolean }> = [];
        for (const s of steps) {
          if (s.kind === 'move') now += s.ms;
          newest = Math.max(newest, Math.floor(now / 1000));
          if (s.kind === 'record') {
            w.record(s.failed, s.slow, now);
            kept.push({ sec: newest, failed: s.failed, slow: s.slow });
          } else {
            w.refresh(now);
          }
          kept = kept.filter((o) => o.sec > newest - seconds);
          expect({ total: w.total, failures: w.failures, slow: w.slow }).toEqual({
            total: kept.length,
            failures: kept.filter((o) => o.failed).length,
            slow: kept.filter((o) => o.slow).length,
          });
        }
      }),
      RUNS,
    );
  });
});

describe('call() counters under random call sequences', () => {
  type Call = { kind: 'ok' | 'reject' | 'throw' | 'ignored'; concurrent: number } | { kind: 'advance'; ms: number };
  const callStep: fc.Arbitrary<Call> = fc.oneof(
    fc.record({ kind: fc.constantFrom('ok' as const, 'reject' as const, 'throw' as const, 'ignored' as const), concurrent: fc.integer({ min: 1, max: 4 }) }),
    fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 3_000 }) }),
  );
  const fallback: fc.Arbitrary<Fallback<string> | undefined> = fc.constantFrom(
    undefined,
    { kind: 'value', value: 'fallback' } as const,
    { kind: 'value', value: 'fallback', on: 'open-or-failure' } as const,
    { kind: 'function', fn: () => 'fallback' } as const,
    { kind: 'last-good', maxAgeMs: 2_000 } as const,
  );

  it('successes + failures + rejections equal the calls issued, fallbacks equal the calls it answered, and no call is both run and rejected', async () => {
    await fc.assert(
      fc.asyncProperty(breakerOptions, fallback, fc.array(callStep, { maxLength: 40, size: 'max' }), async (options, fb, steps) => {
        const clock = fakeClock();
        const ignored = new Error('not a failure');
        const breaker = new CircuitBreaker<string>('calls', options, {
          clock,
          random: () => 0.5,
          isFailure: (e) => e !== ignored,
          ...(fb ? { fallback: fb } : {}),
        });
        let issued = 0;
        let ran = 0;
        let answered = 0;
        let rejectedWithOpenError = 0;
        const one = async (kind: 'ok' | 'reject' | 'throw' | 'ignored') => {
          issued++;
          const fn = () => {
            ran++;
            if (kind === 'ok') return Promise.resolve('value');
            if (kind === 'reject') return Promise.reject(new Error('down'));
            if (kind === 'ignored') return Promise.reject(ignored);
            throw new Error('sync');
          };
          try {
            const value = await breaker.call(fn);
            if (value === 'fallback') answered++;
            // a last-good answer is a value that was returned before without running fn now
          } catch (err) {
            if (isCircuitOpenError(err)) rejectedWithOpenError++;
          }
        };
        for (const s of steps) {
          if (s.kind === 'advance') clock.advance(s.ms);
          else await Promise.all(Array.from({ length: s.concurrent }, () => one(s.kind)));
          expect(breaker.successes + breaker.failures + breaker.rejections).toBe(issued);
          expect(breaker.successes + breaker.failures).toBe(ran);
          expect(STATES).toContain(breaker.state);
        }
        if (fb?.kind !== 'last-good') expect(breaker.fallbacks).toBe(answered);
        expect(breaker.fallbacks + rejectedWithOpenError).toBeGreaterThanOrEqual(breaker.rejections);
        expect(breaker.fallbacks).toBeLessThanOrEqual(breaker.rejections + breaker.failures);
      }),
      { ...RUNS, numRuns: 100 },
    );
  });
});
