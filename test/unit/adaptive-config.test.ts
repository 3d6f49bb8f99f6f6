import { diag } from '@opentelemetry/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { AdaptiveConfigManager, REDACTED, type AdaptiveConfigOptions, type ConfigChangeEvent } from '../../src/config/adaptive/index.js';
import { ConfigValidationError } from '../../src/config/index.js';

/** A clock the test moves by hand. */
function fakeClock(start = 1_700_000_000_000) {
  const clock = {
    t: start,
    now: () => clock.t,
    advance: (ms: number) => {
      clock.t += ms;
    },
  };
  return clock;
}

const fraction = z
  .number({ error: 'must be a number between 0 and 1' })
  .min(0, { error: 'must be between 0 and 1' })
  .max(1, { error: 'must be between 0 and 1' });

const INITIAL = Object.freeze({
  'cache.enabled': true,
  'retry.max': 3,
  'sample.ratio': 0.5,
  mode: 'fast',
  'db.password': 'correct horse',
});

const CONSTRAINTS: AdaptiveConfigOptions['constraints'] = {
  'cache.enabled': z.boolean(),
  'retry.max': z.number().int({ error: 'must be a whole number' }).min(0).max(10),
  'sample.ratio': fraction,
  mode: z.enum(['fast', 'safe']),
  /** Not set initially: for `add`. A duration in ms. */
  timeoutMs: z.number().min(0),
  'db.password': { schema: z.string().min(8), sensitive: true },
};

function makeManager(options: Partial<AdaptiveConfigOptions> = {}) {
  const clock = fakeClock();
  const manager = new AdaptiveConfigManager({ initial: INITIAL, constraints: CONSTRAINTS, clock, ...options });
  return { clock, manager };
}

/** The thrown error, for assertions on its fields. */
function thrown(fn: () => unknown): Error & { code?: string; problems?: Array<{ path: string; message: string }> } {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('AdaptiveConfigManager: changes', () => {
  it('starts at version 1 with the initial values as a static configuration', () => {
    const { manager, clock } = makeManager();
    const config = manager.currentConfig();
    expect(config).toMatchObject({ version: 1, source: 'static', timestamp: clock.t, parameters: INITIAL });
    expect(config.fitnessScore).toBeUndefined();
    expect(Object.isFrozen(config) && Object.isFrozen(config.parameters)).toBe(true);
    expect(manager.get('retry.max')).toBe(3);
    expect(manager.get('timeoutMs')).toBeUndefined();
  });

  it('adds a parameter that is not set, as a dynamic change', () => {
    const { manager, clock } = makeManager();
    clock.advance(1_000);
    const next = manager.applyChange({ kind: 'add', key: 'timeoutMs', value: 2_500 });
    expect(next).toMatchObject({ version: 2, source: 'dynamic', timestamp: clock.t });
    expect(next.parameters).toEqual({ ...INITIAL, timeoutMs: 2_500 });
    expect(manager.currentConfig()).toBe(next);
  });

  it('refuses to add a parameter that is already set, and to update one that is not', () => {
    const { manager } = makeManager();
    expect(() => manager.applyChange({ kind: 'add', key: 'retry.max', value: 4 })).toThrow(
      `config.parameters["retry.max"] is already set: use an 'update' change`,
    );
    expect(() => manager.applyChange({ kind: 'update', key: 'timeoutMs', value: 4 })).toThrow(
      `config.parameters["timeoutMs"] is not set: use an 'add' change`,
    );
    expect(manager.currentConfig().version).toBe(1);
  });

  it('updates a parameter', () => {
    const { manager } = makeManager();
    const next = manager.applyChange({ kind: 'update', key: 'sample.ratio', value: 0.25 });
    expect(next.parameters['sample.ratio']).toBe(0.25);
    expect(next.parameters['retry.max']).toBe(3);
  });

  it('removes a parameter, and refuses to remove one that is not set', () => {
    const { manager } = makeManager();
    const next = manager.applyChange({ kind: 'remove', key: 'mode' });
    expect('mode' in next.parameters).toBe(false);
    expect(() => manager.applyChange({ kind: 'remove', key: 'mode' })).toThrow('config.parameters["mode"] is not set, so it cannot be removed');
  });

  it('resets to the initial values as a static configuration', () => {
    const { manager } = makeManager();
    manager.applyChange({ kind: 'update', key: 'retry.max', value: 7 });
    manager.applyChange({ kind: 'add', key: 'timeoutMs', value: 10 });
    manager.applyChange({ kind: 'remove', key: 'mode' });
    const reset = manager.applyChange({ kind: 'reset-to-default' });
    expect(reset.parameters).toEqual(INITIAL);
    expect(reset).toMatchObject({ version: 5, source: 'static' });
  });

  it('applies a complete configuration: omitted keys are unset, source and fitness are taken from it', () => {
    const { manager } = makeManager();
    const next = manager.applyChange({
      kind: 'apply-complete',
      config: { parameters: { 'retry.max': 1, mode: 'safe', timeoutMs: 50 }, source: 'optimized', fitnessScore: 0.8 },
    });
    expect(next.parameters).toEqual({ 'retry.max': 1, mode: 'safe', timeoutMs: 50 });
    expect(next).toMatchObject({ source: 'optimized', fitnessScore: 0.8, version: 2 });
  });

  it('accepts an AdaptiveConfig it returned earlier as a complete configuration', () => {
    const { manager } = makeManager();
    const first = manager.currentConfig();
    manager.applyChange({ kind: 'update', key: 'retry.max', value: 9 });
    const back = manager.applyChange({ kind: 'apply-complete', config: first });
    expect(back.parameters).toEqual(first.parameters);
    expect(back.version).toBe(3);
  });

  it('applies several changes as one version', () => {
    const { manager } = makeManager();
    const next = manager.applyChange([
      { kind: 'update', key: 'retry.max', value: 5 },
      { kind: 'add', key: 'timeoutMs', value: 100 },
      { kind: 'remove', key: 'cache.enabled' },
    ]);
    expect(next.version).toBe(2);
    expect(next.parameters).toEqual({ 'retry.max': 5, timeoutMs: 100, 'sample.ratio': 0.5, mode: 'fast', 'db.password': 'correct horse' });
    expect(manager.history().at(-1)).toMatchObject({ cause: 'batch', changedKeys: ['cache.enabled', 'retry.max', 'timeoutMs'] });
  });

  it('returns the current configuration, with no new version, for a change that changes nothing', () => {
    const { manager } = makeManager();
    const listener = vi.fn();
    manager.onChange(listener);
    const same = manager.applyChange({ kind: 'update', key: 'retry.max', value: 3 });
    expect(same).toBe(manager.currentConfig());
    expect(same.version).toBe(1);
    expect(listener).not.toHaveBeenCalled();
  });

  it('numbers versions one apart, rollbacks included', () => {
    const { manager } = makeManager();
    const versions = [manager.currentConfig().version];
    for (let i = 0; i < 4; i++) versions.push(manager.applyChange({ kind: 'update', key: 'retry.max', value: i + 4 }).version);
    versions.push(manager.rollback().version);
    expect(versions).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('stores the output of the parameter schema', () => {
    const manager = new AdaptiveConfigManager({ initial: { level: 'info' }, constraints: { level: z.string().toLowerCase() } });
    expect(manager.applyChange({ kind: 'update', key: 'level', value: 'DEBUG' }).parameters.level).toBe('debug');
  });
});

describe('AdaptiveConfigManager: bad input', () => {
  it('refuses a value outside its constraint with an error naming the key, and leaves the configuration untouched', () => {
    const { manager } = makeManager();
    const before = manager.currentConfig();
    const err = thrown(() => manager.applyChange({ kind: 'update', key: 'sample.ratio', value: 1.5 }));
    expect(err).toBeInstanceOf(ConfigValidationError);
    expect(err.code).toBe('ESELFHEALCONFIG');
    expect(err.message).toBe('config.parameters["sample.ratio"] must be between 0 and 1, got 1.5');
    expect(err.problems).toEqual([{ path: 'config.parameters["sample.ratio"]', message: err.message }]);
    expect(manager.currentConfig()).toBe(before);
    expect(manager.history()).toHaveLength(1);
  });

  it('applies nothing of a batch with one bad value and names every bad key', () => {
    const { manager } = makeManager();
    const listener = vi.fn();
    manager.onChange(listener);
    const err = thrown(() =>
      manager.applyChange([
        { kind: 'update', key: 'retry.max', value: 4 },
        { kind: 'update', key: 'sample.ratio', value: -1 },
        { kind: 'update', key: 'mode', value: 'reckless' },
      ]),
    );
    expect(err.problems!.map((p) => p.path)).toEqual(['config.parameters["sample.ratio"]', 'config.parameters["mode"]']);
    expect(manager.currentConfig().parameters).toEqual(INITIAL);
    expect(listener).not.toHaveBeenCalled();
  });

  it('refuses an unknown key, naming it and the known ones', () => {
    const { manager } = makeManager();
    expect(() => manager.applyChange({ kind: 'add', key: 'retries', value: 3 })).toThrow(
      'config.parameters["retries"] is not a known parameter (known: cache.enabled, retry.max, sample.ratio, mode, timeoutMs, db.password)',
    );
    expect(() => manager.applyChange({ kind: 'apply-complete', config: { parameters: { ...INITIAL, extra: 1 } } })).toThrow(
      'config.parameters["extra"] is not a known parameter',
    );
    expect(manager.currentConfig().version).toBe(1);
  });

  it('refuses a malformed change, naming the field', () => {
    const { manager } = makeManager();
    expect(() => manager.applyChange({ kind: 'upsert', key: 'mode', value: 'safe' } as never)).toThrow(/^change\.kind must be a change of kind 'add'/);
    expect(() => manager.applyChange({ kind: 'update', key: 'mode', value: 'safe', when: 'now' } as never)).toThrow(
      'change.when is not a known option',
    );
    expect(() => manager.applyChange([])).toThrow('changes must hold at least one change');
  });

  it('never shows the value of a sensitive parameter in an error', () => {
    const { manager } = makeManager();
    const err = thrown(() => manager.applyChange({ kind: 'update', key: 'db.password', value: 'letmein' }));
    expect(err.message).toMatch(/^config\.parameters\["db\.password"\] .*\(value not shown: sensitive\)$/);
    expect(err.message).not.toContain('letmein');
  });

  it('refuses construction options that do not fit, naming the field', () => {
    expect(() => new AdaptiveConfigManager({ initial: { 'sample.ratio': 2 }, constraints: CONSTRAINTS })).toThrow(
      'adaptiveConfig.initial["sample.ratio"] must be between 0 and 1, got 2',
    );
    expect(() => new AdaptiveConfigManager({ initial: { other: 1 }, constraints: CONSTRAINTS })).toThrow(
      'adaptiveConfig.initial["other"] is not a known parameter',
    );
    expect(() => new AdaptiveConfigManager({ initial: {}, constraints: { a: 'number' as never } })).toThrow(
      'adaptiveConfig.constraints["a"] must be a zod schema or { schema, sensitive? }',
    );
    expect(() => new AdaptiveConfigManager({ initial: {}, constraints: {}, historySize: 1 })).toThrow(
      'adaptiveConfig.historySize must be at least 2',
    );
    expect(() => new AdaptiveConfigManager({ initial: {}, constraints: {}, persistence: 'x' } as never)).toThrow(
      'adaptiveConfig.persistence is not a known option',
    );
  });

  it('refuses a value that is not a boolean, a finite number or a string', () => {
    const manager = new AdaptiveConfigManager({ initial: {}, constraints: { list: z.array(z.string()) as never } });
    expect(() => manager.applyChange({ kind: 'add', key: 'list', value: ['a'] as never })).toThrow(
      'config.parameters["list"] must be a boolean, a finite number or a string, got object',
    );
  });
});

describe('AdaptiveConfigManager: subscribers', () => {
  it('tells subscribers the old and new versions, the changed keys and their old and new values', () => {
    const { manager } = makeManager();
    const events: ConfigChangeEvent[] = [];
    manager.onChange((e) => events.push(e));
    manager.applyChange([
      { kind: 'update', key: 'retry.max', value: 5 },
      { kind: 'remove', key: 'mode' },
      { kind: 'add', key: 'timeoutMs', value: 30 },
    ]);
    expect(events).toEqual([
      {
        type: 'applied',
        from: 1,
        to: 2,
        source: 'dynamic',
        cause: 'batch',
        changedKeys: ['mode', 'retry.max', 'timeoutMs'],
        previous: { 'retry.max': 3, mode: 'fast' },
        current: { 'retry.max': 5, timeoutMs: 30 },
      },
    ]);
  });

  it('stops calling a subscriber once disposed (disposing twice is harmless)', () => {
    const { manager } = makeManager();
    const listener = vi.fn();
    const dispose = manager.onChange(listener);
    manager.applyChange({ kind: 'update', key: 'retry.max', value: 4 });
    dispose();
    dispose();
    manager.applyChange({ kind: 'update', key: 'retry.max', value: 5 });
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it('redacts sensitive values in notifications and logs', () => {
    const info = vi.spyOn(diag, 'info').mockImplementation(() => {});
    const { manager } = makeManager();
    const events: ConfigChangeEvent[] = [];
    manager.onChange((e) => events.push(e));
    manager.applyChange({ kind: 'update', key: 'db.password', value: 'battery staple' });
    expect(events[0]).toMatchObject({ changedKeys: ['db.password'], previous: { 'db.password': REDACTED }, current: { 'db.password': REDACTED } });
    expect(JSON.stringify(events)).not.toMatch(/horse|staple/);
    expect(info).toHaveBeenCalledWith('otel-self-heal: configuration version 1 -> 2 (dynamic, update): db.password');
    expect(JSON.stringify(info.mock.calls)).not.toMatch(/horse|staple/);
    expect(manager.isSensitive('db.password')).toBe(true);
    expect(manager.get('db.password')).toBe('battery staple');
  });

  it('keeps a change applied when a subscriber throws, and still calls the others', () => {
    const error = vi.spyOn(diag, 'error').mockImplementation(() => {});
    const { manager } = makeManager();
    const second = vi.fn();
    manager.onChange(() => {
      throw new Error('boom');
    });
    manager.onChange(second);
    const next = manager.applyChange({ kind: 'update', key: 'retry.max', value: 4 });
    expect(manager.currentConfig()).toBe(next);
    expect(second).toHaveBeenCalledTimes(1);
    expect(error).toHaveBeenCalledWith('otel-self-heal: a configuration listener threw', expect.any(Error));
  });

  it('delivers versions in order when a subscriber applies a change of its own', () => {
    const { manager } = makeManager();
    const seen: number[] = [];
    manager.onChange((e) => {
      if (e.to === 2) manager.applyChange({ kind: 'update', key: 'mode', value: 'safe' });
    });
    manager.onChange((e) => seen.push(e.to));
    manager.applyChange({ kind: 'update', key: 'retry.max', value: 4 });
    expect(seen).toEqual([2, 3]);
  });

  it('refuses a change a whole-configuration check refuses, until the check is removed', () => {
    const { manager } = makeManager();
    const remove = manager.addCheck((next) => {
      if (next.mode === 'safe' && next['retry.max'] === 0) {
        throw new ConfigValidationError([{ path: 'config.parameters', message: 'safe mode needs at least one retry' }]);
      }
    });
    manager.applyChange({ kind: 'update', key: 'mode', value: 'safe' });
    expect(() => manager.applyChange({ kind: 'update', key: 'retry.max', value: 0 })).toThrow('safe mode needs at least one retry');
    expect(manager.get('retry.max')).toBe(3);
    remove();
    expect(manager.applyChange({ kind: 'update', key: 'retry.max', value: 0 }).parameters['retry.max']).toBe(0);
  });
});

describe('AdaptiveConfigManager: history', () => {
  it('keeps at most historySize versions, the current one last', () => {
    const { manager } = makeManager({ historySize: 3 });
    for (let i = 0; i < 5; i++) manager.applyChange({ kind: 'update', key: 'retry.max', value: i });
    const history = manager.history();
    expect(history.map((e) => e.version)).toEqual([4, 5, 6]);
    expect(history.at(-1)).toBe(manager.currentConfig());
    expect(history.map((e) => e.parameters['retry.max'])).toEqual([2, 3, 4]);
  });

  it('keeps 100 versions by default', () => {
    const { manager } = makeManager();
    for (let i = 0; i < 150; i++) manager.applyChange({ kind: 'update', key: 'retry.max', value: i % 2 === 0 ? 4 : 5 });
    expect(manager.history()).toHaveLength(100);
    expect(manager.history()[0]!.version).toBe(52);
  });

  it('records the effectiveness of a version later', () => {
    const { manager } = makeManager();
    manager.applyChange({ kind: 'update', key: 'retry.max', value: 4 });
    manager.applyChange({ kind: 'update', key: 'retry.max', value: 5 });
    manager.recordEffectiveness(2, 0.7);
    manager.recordEffectiveness(3, 0.9);
    expect(manager.history().map((e) => e.fitnessScore)).toEqual([undefined, 0.7, 0.9]);
    expect(manager.currentConfig().fitnessScore).toBe(0.9);
    expect(() => manager.recordEffectiveness(42, 1)).toThrow('version 42 is not in the history');
    expect(() => manager.recordEffectiveness(2, Number.NaN)).toThrow('fitnessScore must be a finite number, got NaN');
  });
});

describe('AdaptiveConfigManager: rollback', () => {
  it('restores the version before the current one as a new version', () => {
    const { manager } = makeManager();
    manager.applyChange({ kind: 'update', key: 'retry.max', value: 4 });
    manager.applyChange({ kind: 'apply-complete', config: { parameters: { 'retry.max': 9 }, source: 'optimized', fitnessScore: 0.3 } });
    const events: ConfigChangeEvent[] = [];
    manager.onChange((e) => events.push(e));
    const back = manager.rollback();
    expect(back).toMatchObject({ version: 4, source: 'dynamic', parameters: { ...INITIAL, 'retry.max': 4 } });
    expect(back.fitnessScore).toBeUndefined();
    expect(events[0]).toMatchObject({ type: 'rolled-back', from: 3, to: 4, cause: 'rollback', reason: 'rolled back to version 2' });
  });

  it('restores a version named explicitly, with its source and fitness', () => {
    const { manager } = makeManager();
    manager.applyChange({ kind: 'apply-complete', config: { parameters: { 'retry.max': 9 }, source: 'optimized', fitnessScore: 0.3 } });
    manager.applyChange({ kind: 'reset-to-default' });
    manager.applyChange({ kind: 'update', key: 'mode', value: 'safe' });
    const back = manager.rollback(2);
    expect(back).toMatchObject({ version: 5, source: 'optimized', fitnessScore: 0.3, parameters: { 'retry.max': 9 } });
  });

  it('refuses a version that is not in the history, the current one, or rolling back with nothing before', () => {
    const { manager } = makeManager({ historySize: 2 });
    expect(() => manager.rollback()).toThrow('rollback: there is no earlier version in the history to roll back to');
    manager.applyChange({ kind: 'update', key: 'retry.max', value: 4 });
    manager.applyChange({ kind: 'update', key: 'retry.max', value: 5 });
    expect(() => manager.rollback(1)).toThrow('rollback.version 1 is not in the history (kept: versions 2 to 3)');
    expect(() => manager.rollback(3)).toThrow('rollback.version 3 is the current version');
    expect(manager.currentConfig().version).toBe(3);
  });
});

describe('AdaptiveConfigManager: automatic rollback', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('rolls a change back when the health score falls within its verification window', () => {
    vi.useFakeTimers();
    vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const { manager } = makeManager();
    let score = 0.9;
    const events: ConfigChangeEvent[] = [];
    manager.onChange((e) => events.push(e));
    manager.applyChange({ kind: 'update', key: 'retry.max', value: 0 }, { verify: { windowMs: 10_000, healthScore: () => score } });
    expect(manager.history().at(-1)!.verification).toEqual({ before: 0.9, outcome: 'pending' });
    score = 0.4;
    vi.advanceTimersByTime(9_999);
    expect(manager.currentConfig().version).toBe(2);
    vi.advanceTimersByTime(1);
    expect(manager.currentConfig()).toMatchObject({ version: 3, cause: 'rollback', parameters: INITIAL });
    expect(manager.history()[1]!.verification).toEqual({ before: 0.9, after: 0.4, outcome: 'rolled-back' });
    expect(events.at(-1)).toMatchObject({
      type: 'rolled-back',
      from: 2,
      to: 3,
      changedKeys: ['retry.max'],
      reason: 'the health score fell from 0.9 to 0.4 within 10000 ms of version 2',
    });
  });

  it('keeps a change when the health score holds within the tolerance', () => {
    vi.useFakeTimers();
    const { manager } = makeManager();
    let score = 0.9;
    manager.applyChange({ kind: 'update', key: 'retry.max', value: 0 }, { verify: { windowMs: 1_000, healthScore: () => score, tolerance: 0.05 } });
    score = 0.86;
    vi.advanceTimersByTime(1_000);
    expect(manager.currentConfig().version).toBe(2);
    expect(manager.currentConfig()).toMatchObject({ verification: { before: 0.9, after: 0.86, outcome: 'kept' } });
  });

  it('does not roll back a change that a later one has replaced', () => {
    vi.useFakeTimers();
    const { manager } = makeManager();
    let score = 1;
    manager.applyChange({ kind: 'update', key: 'retry.max', value: 0 }, { verify: { windowMs: 1_000, healthScore: () => score } });
    manager.applyChange({ kind: 'update', key: 'mode', value: 'safe' });
    score = 0;
    vi.advanceTimersByTime(1_000);
    expect(manager.currentConfig().version).toBe(3);
    expect(manager.history()[1]!.verification).toEqual({ before: 1, outcome: 'superseded' });
  });

  it('rolls back when the health score cannot be read after the change', () => {
    vi.useFakeTimers();
    vi.spyOn(diag, 'warn').mockImplementation(() => {});
    const { manager } = makeManager();
    let broken = false;
    const healthScore = () => {
      if (broken) throw new Error('monitor down');
      return 1;
    };
    manager.applyChange({ kind: 'update', key: 'retry.max', value: 0 }, { verify: { windowMs: 1_000, healthScore } });
    broken = true;
    vi.advanceTimersByTime(1_000);
    expect(manager.currentConfig()).toMatchObject({ version: 3, cause: 'rollback' });
  });

  it('applies nothing when the health score cannot be read before the change', () => {
    const { manager } = makeManager();
    expect(() =>
      manager.applyChange({ kind: 'update', key: 'retry.max', value: 0 }, { verify: { windowMs: 1_000, healthScore: () => Number.NaN } }),
    ).toThrow('verify.healthScore must return a finite number, got NaN');
    expect(() => manager.applyChange({ kind: 'update', key: 'retry.max', value: 0 }, { verify: { windowMs: -1, healthScore: () => 1 } })).toThrow(
      'verify.windowMs must be 0 or more milliseconds, got -1',
    );
    expect(manager.currentConfig().version).toBe(1);
  });

  it('cancels pending verifications on stop()', async () => {
    vi.useFakeTimers();
    const { manager } = makeManager();
    let score = 1;
    await manager.start();
    manager.applyChange({ kind: 'update', key: 'retry.max', value: 0 }, { verify: { windowMs: 1_000, healthScore: () => score } });
    await manager.stop();
    score = 0;
    vi.advanceTimersByTime(5_000);
    expect(manager.currentConfig().version).toBe(2);
    expect(manager.currentConfig()).toMatchObject({ verification: { before: 1, outcome: 'cancelled' } });
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('AdaptiveConfigManager: signals', () => {
  it('refuses signals until started', async () => {
    const { manager } = makeManager();
    const outcome = await manager.signal({ kind: 'rollback' });
    expect(outcome.ok).toBe(false);
    expect(String((outcome as { error: Error }).error.message)).toContain('not running');
  });

  it('applies changes and rollbacks sent as signals, and reports refusals without throwing', async () => {
    const { manager } = makeManager();
    await manager.start();
    const applied = await manager.signal({ kind: 'apply', change: { kind: 'update', key: 'mode', value: 'safe' } });
    expect(applied).toMatchObject({ ok: true, config: { version: 2, parameters: { mode: 'safe' } } });
    const rolled = await manager.signal({ kind: 'rollback', version: 1 });
    expect(rolled).toMatchObject({ ok: true, config: { version: 3, parameters: { mode: 'fast' } } });
    const bad = await manager.signal({ kind: 'apply', change: { kind: 'update', key: 'mode', value: 'wild' } });
    expect(bad.ok).toBe(false);
    expect((bad as { error: unknown }).error).toBeInstanceOf(ConfigValidationError);
    const unknown = await manager.signal({ kind: 'shout' } as never);
    expect((unknown as { error: Error }).error.message).toBe(`signal.kind must be 'apply', 'rollback', 'persist' or 'reload', got "shout"`);
    const persist = await manager.signal({ kind: 'persist' });
    expect((persist as { error: Error }).error.message).toContain('no persistPath');
    await manager.stop();
  });
});
