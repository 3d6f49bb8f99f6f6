import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HealthStatus } from '../../src/health/index.js';
import {
  RecoveryManager,
  type RecoveryEventName,
  type RecoveryEvents,
  type RecoveryManagerOptions,
  type SelfHealingComponent,
} from '../../src/recovery/index.js';

const FAILED: HealthStatus = { kind: 'failed', reason: 'error rate 60.0% >= failed threshold 50.0%' };
const CRITICAL: HealthStatus = { kind: 'critical', reason: 'error rate 30.0% >= critical threshold 25.0%' };
const HEALTHY: HealthStatus = { kind: 'healthy' };

type Method = 'restart' | 'reconfigure' | 'fallback' | 'scale';
type Fake = SelfHealingComponent & { health: HealthStatus; calls: Method[] };

/** A component whose checkHealth reports `health`; each action records its call and runs `act`. */
function fake(name: string, actions: Partial<Record<Method, (f: Fake, signal: AbortSignal) => unknown>>, extra: Partial<SelfHealingComponent> = {}): Fake {
  const f = { name, health: FAILED as HealthStatus, calls: [] as Method[], checkHealth: async () => f.health, ...extra } as Fake;
  for (const [method, act] of Object.entries(actions) as Array<[Method, (f: Fake, s: AbortSignal) => unknown]>) {
    (f as unknown as Record<Method, (s: AbortSignal) => Promise<unknown>>)[method] = async (signal) => {
      f.calls.push(method);
      return act(f, signal);
    };
  }
  return f;
}
const heal = (f: Fake) => {
  f.health = HEALTHY;
};
const nothing = () => undefined;
const boom = () => {
  throw new Error('boom');
};

type Recorded = { [E in RecoveryEventName]: [E, RecoveryEvents[E]] }[RecoveryEventName];
function record(m: RecoveryManager): Recorded[] {
  const out: Recorded[] = [];
  for (const name of ['recovery-started', 'attempt-started', 'attempt-finished', 'rolled-back', 'manual-intervention', 'recovery-completed', 'acknowledged'] as const) {
    m.on(name, (e) => out.push([name, e] as Recorded));
  }
  return out;
}

function manager(options: RecoveryManagerOptions = {}): RecoveryManager {
  const m = new RecoveryManager({ verifyWindowMs: 0, jitter: 0, exploration: 0, ...options });
  m.start();
  return m;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('RecoveryManager: strategy selection', () => {
  it('runs the primary strategy of the failure type\'s plan', async () => {
    const m = manager({ plans: [{ failureType: 'latency', primary: 'reconfigure', fallbacks: ['restart'] }] });
    const c = fake('svc', { restart: heal, reconfigure: heal });
    m.register(c);
    const o = await m.requestRecovery('svc', 'latency', FAILED);
    expect(o.outcome).toBe('recovered');
    expect(o.plan).toBe('latency');
    expect(c.calls).toEqual(['reconfigure']);
    expect(o.attempts).toEqual([expect.objectContaining({ action: 'reconfigure', success: true, rolledBack: false })]);
  });

  it('uses the default plan (restart first) for a failure type without a plan', async () => {
    const m = manager();
    const c = fake('svc', { restart: heal, reconfigure: heal });
    m.register(c);
    const o = await m.requestRecovery('svc', 'error-rate', FAILED);
    expect(o).toMatchObject({ outcome: 'recovered', plan: '*' });
    expect(c.calls).toEqual(['restart']);
  });

  it('passes over strategies the component does not implement', async () => {
    const m = manager({ plans: [{ failureType: 'x', primary: 'restart', fallbacks: ['scale-resources'] }] });
    const c = fake('svc', { scale: heal });
    m.register(c);
    const events = record(m);
    const o = await m.requestRecovery('svc', 'x', FAILED);
    expect(o.outcome).toBe('recovered');
    expect(c.calls).toEqual(['scale']);
    expect(events.find(([n]) => n === 'recovery-started')![1]).toMatchObject({ strategies: ['scale-resources', 'manual-intervention'] });
  });
});

describe('RecoveryManager: retries', () => {
  it('retries a strategy with exponential backoff before escalating', async () => {
    vi.useFakeTimers();
    const m = manager({ clock: { now: () => Date.now() }, plans: [{ failureType: 'x', primary: 'restart', fallbacks: ['fallback'], maxRetries: 3, retryDelayMs: 100, backoffMultiplier: 2 }] });
    const c = fake('svc', { restart: nothing, fallback: heal });
    m.register(c);
    const events = record(m);
    const t0 = Date.now();
    const p = m.requestRecovery('svc', 'x', FAILED);
    await vi.runAllTimersAsync();
    const o = await p;
    expect(o.outcome).toBe('recovered');
    expect(c.calls).toEqual(['restart', 'restart', 'restart', 'restart', 'fallback']);
    const started = events.filter(([n]) => n === 'attempt-started').map(([, e]) => e as RecoveryEvents['attempt-started']);
    expect(started.map((e) => [e.strategy, e.retry, e.delayMs, e.timestamp - t0])).toEqual([
      ['restart', 0, 0, 0],
      ['restart', 1, 100, 100],
      ['restart', 2, 200, 300],
      ['restart', 3, 400, 700],
      ['fallback', 0, 0, 700],
    ]);
    expect(o.attempts.map((a) => a.error)).toEqual([...Array(4).fill('health did not confirm within 0 ms (failed: error rate 60.0% >= failed threshold 50.0%)'), undefined]);
  });

  it('takes a random share of up to `jitter` off each backoff', async () => {
    vi.useFakeTimers();
    const m = manager({ clock: { now: () => Date.now() }, jitter: 0.5, random: () => 0.5, plans: [{ failureType: 'x', primary: 'restart', maxRetries: 2, retryDelayMs: 1000 }] });
    m.register(fake('svc', { restart: nothing }));
    const delays: number[] = [];
    m.on('attempt-started', (e) => delays.push(e.delayMs));
    const p = m.requestRecovery('svc', 'x', FAILED);
    await vi.runAllTimersAsync();
    await p;
    expect(delays).toEqual([0, 750, 1500]);
  });

  it('counts a thrown action or a timed-out one as a failed attempt, and aborts the timed-out action', async () => {
    vi.useFakeTimers();
    let aborted: unknown;
    const m = manager({ clock: { now: () => Date.now() }, actionTimeoutMs: 50, plans: [{ failureType: 'x', primary: 'restart', fallbacks: ['reconfigure', 'fallback'] }] });
    const c = fake('svc', {
      restart: boom,
      reconfigure: (_f, signal) =>
        new Promise((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = signal.reason;
            resolve(undefined);
          });
        }),
      fallback: heal,
    });
    m.register(c);
    const p = m.requestRecovery('svc', 'x', FAILED);
    await vi.runAllTimersAsync();
    const o = await p;
    expect(o.outcome).toBe('recovered');
    expect(o.attempts.map((a) => [a.action, a.success, a.error])).toEqual([
      ['restart', false, 'boom'],
      ['reconfigure', false, 'recovery action timed out after 50 ms'],
      ['fallback', true, undefined],
    ]);
    expect(o.attempts[1]!.durationMs).toBe(50);
    expect(aborted).toMatchObject({ name: 'RecoveryTimeoutError' });
  });
});

describe('RecoveryManager: escalation to manual intervention', () => {
  it('escalates through the fallbacks to manual intervention, then holds the component until acknowledged', async () => {
    const m = manager({ plans: [{ failureType: 'x', primary: 'restart', fallbacks: ['reconfigure', 'fallback'], metadata: { runbook: 'https://runbooks/svc' } }] });
    const c = fake('svc', { restart: boom, reconfigure: nothing, fallback: nothing });
    m.register(c);
    const events = record(m);
    const o = await m.requestRecovery('svc', 'x', FAILED);
    expect(o.outcome).toBe('manual-intervention');
    expect(c.calls).toEqual(['restart', 'reconfigure', 'fallback']);
    const alert = events.find(([n]) => n === 'manual-intervention')![1] as RecoveryEvents['manual-intervention'];
    expect(alert).toMatchObject({ component: 'svc', severity: 'critical', failureType: 'x', metadata: { runbook: 'https://runbooks/svc' } });
    expect(alert.message).toContain('acknowledge("svc")');
    expect(alert.attempts).toHaveLength(3);
    expect(m.stats().onHold).toEqual(['svc']);

    // Held: no automatic attempt, whatever asks.
    const again = await m.requestRecovery('svc', 'x', FAILED);
    expect(again).toMatchObject({ outcome: 'skipped', reason: 'on-hold' });
    expect(c.calls).toHaveLength(3);

    expect(m.acknowledge('svc')).toBe(true);
    expect(m.acknowledge('svc')).toBe(false);
    expect(events.at(-1)).toEqual(['acknowledged', expect.objectContaining({ component: 'svc' })]);
    c.restart = async () => heal(c);
    expect((await m.requestRecovery('svc', 'x', FAILED)).outcome).toBe('recovered');
  });

  it('holds at once when the plan starts with manual intervention', async () => {
    const m = manager({ plans: [{ failureType: 'data-corruption', primary: 'manual-intervention' }] });
    const c = fake('db', { restart: heal });
    m.register(c);
    const o = await m.requestRecovery('db', 'data-corruption', FAILED);
    expect(o).toMatchObject({ outcome: 'manual-intervention', attempts: [] });
    expect(c.calls).toEqual([]);
  });
});

describe('RecoveryManager: verification', () => {
  it('waits for checkHealth to confirm within the window', async () => {
    vi.useFakeTimers();
    const m = manager({ clock: { now: () => Date.now() }, verifyWindowMs: 1000, verifyIntervalMs: 100 });
    const c = fake('svc', {
      restart: (f) => {
        setTimeout(() => heal(f), 250);
      },
    });
    m.register(c);
    const finished: Array<RecoveryEvents['attempt-finished']> = [];
    m.on('attempt-finished', (e) => finished.push(e));
    const p = m.requestRecovery('svc', 'x', FAILED);
    await vi.runAllTimersAsync();
    expect((await p).outcome).toBe('recovered');
    expect(finished[0]!.verification).toMatchObject({ verified: true, source: 'check', status: HEALTHY, durationMs: 300 });
  });

  it('counts degraded as recovered by default, and not with recoveredAt: healthy', async () => {
    const degrade = (f: Fake) => {
      f.health = { kind: 'degraded', reason: 'slow' };
    };
    const lenient = manager();
    lenient.register(fake('svc', { restart: degrade }));
    expect((await lenient.requestRecovery('svc', 'x', FAILED)).outcome).toBe('recovered');
    const strict = manager({ recoveredAt: 'healthy', plans: [{ failureType: 'x', primary: 'restart' }] });
    strict.register(fake('svc', { restart: degrade }));
    expect((await strict.requestRecovery('svc', 'x', FAILED)).outcome).toBe('manual-intervention');
  });

  it('fails the attempt when health does not come back within the window', async () => {
    vi.useFakeTimers();
    const m = manager({ clock: { now: () => Date.now() }, verifyWindowMs: 500, verifyIntervalMs: 100, plans: [{ failureType: 'x', primary: 'restart' }] });
    const c = fake('svc', { restart: nothing });
    let checks = 0;
    c.checkHealth = async () => {
      checks++;
      return c.health;
    };
    m.register(c);
    const p = m.requestRecovery('svc', 'x', FAILED);
    await vi.runAllTimersAsync();
    const o = await p;
    expect(o.outcome).toBe('manual-intervention');
    expect(o.attempts[0]).toMatchObject({ success: false, durationMs: 500, error: expect.stringContaining('health did not confirm within 500 ms') });
    expect(checks).toBe(6); // at 0, 100, …, 500
  });

  it('reads an attached monitor when the component has no checkHealth', async () => {
    const listeners = new Set<(c: { component: string; from: HealthStatus; to: HealthStatus; metrics: { timestamp: number }; timestamp: number }) => void>();
    let status: HealthStatus = FAILED;
    const monitor = {
      onChange: (l: never) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
      component: (name: string) => (name === 'svc' ? { status } : undefined),
    };
    const m = manager({ verifyWindowMs: 1000 });
    m.attach(monitor);
    m.register({
      name: 'svc',
      restart: async () => {
        setTimeout(() => {
          const from = status;
          status = HEALTHY;
          for (const l of listeners) l({ component: 'svc', from, to: status, metrics: { timestamp: 0 }, timestamp: Date.now() });
        }, 20);
      },
    });
    const finished: Array<RecoveryEvents['attempt-finished']> = [];
    m.on('attempt-finished', (e) => finished.push(e));
    expect((await m.requestRecovery('svc', 'x', FAILED)).outcome).toBe('recovered');
    expect(finished[0]!.verification).toMatchObject({ verified: true, source: 'monitor', status: HEALTHY });
    expect(listeners.size).toBe(1); // the verification's own listener is gone
  });

  it('takes the action completing as success when no health source knows the component', async () => {
    const m = manager();
    m.register({ name: 'svc', restart: async () => undefined });
    const finished: Array<RecoveryEvents['attempt-finished']> = [];
    m.on('attempt-finished', (e) => finished.push(e));
    expect((await m.requestRecovery('svc', 'x', FAILED)).outcome).toBe('recovered');
    expect(finished[0]!.verification).toMatchObject({ verified: true, source: 'none' });
  });
});

describe('RecoveryManager: rollback', () => {
  it('rolls back an action that left health worse than before, and records it', async () => {
    const m = manager({ plans: [{ failureType: 'x', primary: 'reconfigure', fallbacks: ['restart'] }] });
    const undo = vi.fn(async () => undefined);
    const c = fake('svc', {
      reconfigure: (f) => {
        f.health = { kind: 'failed', reason: 'bad config' };
        return undo;
      },
      restart: heal,
    });
    c.health = CRITICAL;
    m.register(c);
    const events = record(m);
    const o = await m.requestRecovery('svc', 'x', CRITICAL);
    expect(undo).toHaveBeenCalledTimes(1);
    expect(o).toMatchObject({ outcome: 'recovered', rolledBack: true });
    expect(o.attempts.map((a) => [a.action, a.success, a.rolledBack])).toEqual([
      ['reconfigure', false, true],
      ['restart', true, false],
    ]);
    const rolled = events.find(([n]) => n === 'rolled-back')![1] as RecoveryEvents['rolled-back'];
    expect(rolled).toMatchObject({ strategy: 'reconfigure', attempt: 1, before: CRITICAL, after: { kind: 'failed' }, success: true });
    const order = events.map(([n]) => n);
    expect(order.indexOf('rolled-back')).toBeLessThan(order.indexOf('attempt-finished'));
    expect(m.stats().strategies.find((s) => s.strategy === 'reconfigure')).toMatchObject({ attempts: 1, successes: 0, rollbacks: 1 });
    expect(m.history('svc').map((a) => a.result.rolledBack)).toEqual([true, false]);
  });

  it('keeps an action that did not help but did no harm (no undo)', async () => {
    const m = manager({ plans: [{ failureType: 'x', primary: 'fallback', fallbacks: ['restart'] }] });
    const undo = vi.fn(async () => undefined);
    m.register(fake('svc', { fallback: () => undo, restart: heal }));
    const o = await m.requestRecovery('svc', 'x', FAILED);
    expect(o).toMatchObject({ outcome: 'recovered', rolledBack: false });
    expect(undo).not.toHaveBeenCalled();
  });

  it('records a failing undo', async () => {
    const m = manager({ plans: [{ failureType: 'x', primary: 'scale-resources' }] });
    const c = fake('svc', {
      scale: (f) => {
        f.health = FAILED;
        return async () => {
          throw new Error('cannot scale down');
        };
      },
    });
    c.health = CRITICAL;
    m.register(c);
    const rolled: Array<RecoveryEvents['rolled-back']> = [];
    m.on('rolled-back', (e) => rolled.push(e));
    const o = await m.requestRecovery('svc', 'x', CRITICAL);
    expect(rolled[0]).toMatchObject({ success: false, error: 'cannot scale down' });
    expect(o.attempts[0]!.rolledBack).toBe(false);
  });
});

describe('RecoveryManager: concurrency', () => {
  it('runs one recovery per component: a second request joins the first', async () => {
    const m = manager();
    let release!: () => void;
    const c = fake('svc', {
      restart: (f) =>
        new Promise<void>((resolve) => {
          release = () => {
            heal(f);
            resolve();
          };
        }),
    });
    m.register(c);
    const first = m.requestRecovery('svc', 'error-rate', FAILED);
    const second = m.requestRecovery('svc', 'latency', FAILED);
    await vi.waitFor(() => expect(c.calls).toHaveLength(1));
    release();
    const [a, b] = await Promise.all([first, second]);
    expect(c.calls).toEqual(['restart']);
    expect(a.joined).toBeUndefined();
    expect(b).toMatchObject({ outcome: 'recovered', joined: true, failureType: 'error-rate' });
    expect(m.stats().outcomes.recovered).toBe(1);
  });

  it('keeps to the global cap under 20 simultaneous requests', async () => {
    const m = manager({ maxConcurrent: 4 });
    let running = 0;
    let most = 0;
    for (let i = 0; i < 20; i++) {
      m.register(
        fake(`svc-${i}`, {
          restart: async (f) => {
            most = Math.max(most, ++running);
            await new Promise((r) => setTimeout(r, 5));
            running--;
            heal(f);
          },
        }),
      );
    }
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => m.requestRecovery(`svc-${i}`, 'x', FAILED)));
    expect(outcomes.every((o) => o.outcome === 'recovered')).toBe(true);
    expect(most).toBe(4);
  });

  it('never rejects: unknown components, a stopped manager and throwing listeners give outcomes', async () => {
    const m = new RecoveryManager({ verifyWindowMs: 0, plans: [{ failureType: 'x', primary: 'restart' }] });
    expect(await m.requestRecovery('svc', 'x', FAILED)).toMatchObject({ outcome: 'skipped', reason: 'not-running' });
    m.start();
    expect(await m.requestRecovery('ghost', 'x', FAILED)).toMatchObject({ outcome: 'skipped', reason: 'unknown-component' });
    m.on('attempt-started', () => {
      throw new Error('listener bug');
    });
    m.register(fake('svc', { restart: heal }, { checkHealth: async () => { throw new Error('check bug'); } }));
    const o = await m.requestRecovery('svc', 'x', FAILED);
    expect(o.outcome).toBe('manual-intervention');
    expect(o.attempts[0]!.error).toContain('checkHealth: check bug');
  });
});
