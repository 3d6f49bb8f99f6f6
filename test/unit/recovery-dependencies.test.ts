import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HealthChange, HealthStatus } from '../../src/health/index.js';
import {
  DependencyCycleError,
  DuplicateComponentError,
  RecoveryManager,
  type RecoveryEvents,
  type RecoveryManagerOptions,
  type SelfHealingComponent,
} from '../../src/recovery/index.js';

const FAILED: HealthStatus = { kind: 'failed', reason: 'the check returned false' };
const HEALTHY: HealthStatus = { kind: 'healthy' };

/** A component whose restart takes `ms` (on the clock the test runs) and heals it. */
function slowHealer(name: string, ms: number, dependsOn?: string[]): SelfHealingComponent & { health: HealthStatus } {
  const c = {
    name,
    dependsOn,
    health: FAILED,
    restart: async () => {
      await new Promise((r) => setTimeout(r, ms));
      c.health = HEALTHY;
    },
    checkHealth: async () => c.health,
  };
  return c;
}

function manager(options: RecoveryManagerOptions = {}): RecoveryManager {
  const m = new RecoveryManager({ verifyWindowMs: 0, jitter: 0, exploration: 0, clock: { now: () => Date.now() }, plans: [{ failureType: '*', primary: 'restart' }], ...options });
  m.start();
  return m;
}

/** attempt-started / attempt-finished per component, with their timestamps. */
function timeline(m: RecoveryManager): Array<{ event: string; component: string; at: number }> {
  const out: Array<{ event: string; component: string; at: number }> = [];
  m.on('attempt-started', (e) => out.push({ event: 'started', component: e.component, at: e.timestamp }));
  m.on('attempt-finished', (e) => out.push({ event: 'finished', component: e.component, at: e.timestamp }));
  return out;
}
const at = (t: ReturnType<typeof timeline>, event: string, component: string) => t.find((e) => e.event === event && e.component === component)!.at;

afterEach(() => {
  vi.useRealTimers();
});

describe('RecoveryManager: dependencies', () => {
  it('rejects a dependency cycle at register time, naming it, and registers nothing', async () => {
    const m = manager();
    m.register({ name: 'api', dependsOn: ['db'] });
    m.register({ name: 'db', dependsOn: ['disk'] });
    let err: unknown;
    try {
      m.register({ name: 'disk', dependsOn: ['api'] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DependencyCycleError);
    expect(err).toMatchObject({ code: 'ERECOVERYCYCLE', cycle: ['disk', 'api', 'db', 'disk'] });
    expect((err as Error).message).toBe('recovery dependency cycle: disk -> api -> db -> disk; component "disk" was not registered');
    expect(await m.requestRecovery('disk', 'x', FAILED)).toMatchObject({ outcome: 'skipped', reason: 'unknown-component' });
    expect(() => m.register({ name: 'self', dependsOn: ['self'] })).toThrow('self -> self');
    expect(() => m.register({ name: 'api' })).toThrow(DuplicateComponentError);
    expect(() => m.register({ name: '', restart: async () => undefined })).toThrow('component.name must be a non-empty string');
    expect(() => m.register({ name: 'x', dependsOn: 'db' as unknown as string[] })).toThrow('components["x"].dependsOn must be a list of component names');
  });

  it('recovers a dependency before the component that depends on it, even when asked in the other order', async () => {
    vi.useFakeTimers();
    const m = manager();
    m.register(slowHealer('db', 100));
    m.register(slowHealer('api', 100, ['db']));
    const t = timeline(m);
    const api = m.requestRecovery('api', 'x', FAILED);
    const db = m.requestRecovery('db', 'x', FAILED);
    await vi.runAllTimersAsync();
    expect((await db).outcome).toBe('recovered');
    expect((await api).outcome).toBe('recovered');
    expect(t.map((e) => `${e.event} ${e.component}`)).toEqual(['started db', 'finished db', 'started api', 'finished api']);
    expect(at(t, 'started', 'api')).toBeGreaterThanOrEqual(at(t, 'finished', 'db'));
  });

  it('recovers independent components in parallel', async () => {
    vi.useFakeTimers();
    const m = manager();
    m.register(slowHealer('cache', 100));
    m.register(slowHealer('queue', 100));
    const t = timeline(m);
    const both = Promise.all([m.requestRecovery('cache', 'x', FAILED), m.requestRecovery('queue', 'x', FAILED)]);
    await vi.runAllTimersAsync();
    expect((await both).map((o) => o.outcome)).toEqual(['recovered', 'recovered']);
    // Each started before the other finished: the two restarts overlapped.
    expect(at(t, 'started', 'queue')).toBeLessThan(at(t, 'finished', 'cache'));
    expect(at(t, 'started', 'cache')).toBeLessThan(at(t, 'finished', 'queue'));
  });

  it('starts the recovery of a failing dependency that health reports, before its dependant', async () => {
    vi.useFakeTimers();
    const statuses = new Map<string, HealthStatus>();
    const m = manager();
    m.attach({ onChange: () => () => undefined, component: (name: string) => (statuses.has(name) ? { status: statuses.get(name)! } : undefined) });
    m.register(slowHealer('db', 50));
    m.register(slowHealer('api', 50, ['db']));
    statuses.set('db', FAILED); // known to the monitor, but no change event reached the manager
    const started: Array<RecoveryEvents['recovery-started']> = [];
    m.on('recovery-started', (e) => started.push(e));
    const t = timeline(m);
    const api = m.requestRecovery('api', 'x', FAILED);
    await vi.runAllTimersAsync();
    expect((await api).outcome).toBe('recovered');
    expect(started.map((e) => [e.component, e.trigger.source, e.trigger.requestedBy])).toEqual([
      ['api', 'request', undefined],
      ['db', 'dependency', 'api'],
    ]);
    expect(at(t, 'started', 'api')).toBeGreaterThanOrEqual(at(t, 'finished', 'db'));
  });

  it('escalates a component whose dependency ends in manual intervention, without acting on it', async () => {
    const m = manager();
    m.register({ name: 'db', restart: async () => undefined, checkHealth: async () => FAILED });
    const api = slowHealer('api', 1, ['db']);
    const restart = vi.spyOn(api, 'restart');
    m.register(api);
    const [apiOutcome, dbOutcome] = await Promise.all([m.requestRecovery('api', 'x', FAILED), m.requestRecovery('db', 'x', FAILED)]);
    expect(dbOutcome.outcome).toBe('manual-intervention');
    expect(apiOutcome).toMatchObject({ outcome: 'escalated', reason: 'dependency-not-recovered', detail: 'dependency "db" did not recover (manual-intervention)' });
    expect(restart).not.toHaveBeenCalled();
    // While db is held, api is blocked at once.
    expect(await m.requestRecovery('api', 'x', FAILED)).toMatchObject({ outcome: 'escalated', detail: 'dependency "db" waits for manual intervention' });
  });

  it('skips a dependant that is healthy again once its dependency recovered', async () => {
    const m = manager();
    const db = slowHealer('db', 1);
    const api = slowHealer('api', 1, ['db']);
    db.restart = async () => {
      db.health = HEALTHY;
      api.health = HEALTHY; // api only failed because db did
    };
    const apiRestart = vi.spyOn(api, 'restart');
    m.register(db);
    m.register(api);
    const [apiOutcome] = await Promise.all([m.requestRecovery('api', 'x', FAILED), m.requestRecovery('db', 'x', FAILED)]);
    expect(apiOutcome).toMatchObject({ outcome: 'skipped', reason: 'recovered-with-dependency', attempts: [] });
    expect(apiRestart).not.toHaveBeenCalled();
  });

  it('waits for a dependency without holding a slot (no deadlock at maxConcurrent 1)', async () => {
    vi.useFakeTimers();
    const m = manager({ maxConcurrent: 1 });
    m.register(slowHealer('db', 10));
    m.register(slowHealer('api', 10, ['db']));
    m.register(slowHealer('web', 10, ['api']));
    const all = Promise.all(['web', 'api', 'db'].map((n) => m.requestRecovery(n, 'x', FAILED)));
    await vi.runAllTimersAsync();
    expect((await all).map((o) => o.outcome)).toEqual(['recovered', 'recovered', 'recovered']);
  });

  it('cancels the recovery of a component that is unregistered', async () => {
    const m = manager();
    let signal: AbortSignal | undefined;
    const dispose = m.register({
      name: 'svc',
      restart: (s) => {
        signal = s;
        return new Promise(() => undefined); // never settles
      },
    });
    const p = m.requestRecovery('svc', 'x', FAILED);
    await vi.waitFor(() => expect(signal).toBeDefined());
    dispose();
    expect(await p).toMatchObject({ outcome: 'cancelled', reason: 'unregistered' });
    expect(signal!.aborted).toBe(true);
    expect(m.stats().inFlight).toBe(0);
  });
});

describe('RecoveryManager: evidence in events', () => {
  it('carries the trigger, its health change and the plan metadata through every event', async () => {
    const m = manager({ plans: [{ failureType: 'error-rate', primary: 'restart', metadata: { runbook: 'rb-1' } }] });
    m.register(slowHealer('svc', 0));
    const change: HealthChange = { component: 'svc', from: HEALTHY, to: FAILED, metrics: { timestamp: 1, errorRate: 0.9 }, timestamp: Date.now() - 5 };
    const seen: Array<{ trigger: unknown; metadata: unknown }> = [];
    for (const name of ['recovery-started', 'attempt-started', 'attempt-finished', 'recovery-completed'] as const) m.on(name, (e) => seen.push(e));
    await m.requestRecovery('svc', 'error-rate', FAILED, { change, detectedAt: change.timestamp });
    expect(seen).toHaveLength(4);
    for (const e of seen) {
      expect(e.trigger).toEqual({ status: FAILED, detectedAt: change.timestamp, source: 'request', change });
      expect(e.metadata).toEqual({ runbook: 'rb-1' });
    }
  });
});
