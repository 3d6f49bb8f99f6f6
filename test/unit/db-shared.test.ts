import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { DbPolicy, admit, dbName, isOurs, wrapMethod, type MethodSlot } from '../../instrumentations/shared/index.js';
import { CircuitBreakerRegistry, CircuitOpenError } from '../../src/breaker/index.js';
import { DbPoolComponent } from '../../src/recovery/index.js';
import { BreakerTelemetry } from '../../src/telemetry/index.js';
import { fakeClock } from '../support/clock.js';

const connectionError = (e: Error) => (e as { code?: string }).code === 'ECONNREFUSED';

describe('DbPolicy', () => {
  it('names a destination system://host:port/db, with defaults and without credentials', () => {
    const policy = new DbPolicy('postgresql', {}, connectionError);
    expect(policy.target('DB.Example.com', 5433, 'orders')?.name).toBe('postgresql://db.example.com:5433/orders');
    expect(policy.target(undefined, undefined, undefined)?.name).toBe('postgresql://localhost:5432/');
    expect(new DbPolicy('redis', {}, connectionError).target('127.0.0.1', '6380', undefined)?.name).toBe('redis://127.0.0.1:6380/0');
    expect(dbName('mysql', '::1', 3306, 'test')).toBe('mysql://[::1]:3306/test');
    expect(new DbPolicy('mysql', {}, connectionError).target('[::1]', 3306, 'test')?.destination.host).toBe('::1');
  });

  it('ignores by name, host, pattern and predicate; a throwing predicate guards', () => {
    const policy = new DbPolicy(
      'postgresql',
      {
        ignore: [
          'postgresql://10.0.0.1:5432/audit',
          'replica.internal',
          /\/reporting$/,
          (d) => d.port === 6000,
          () => {
            throw new Error('boom');
          },
        ],
      },
      connectionError,
    );
    expect(policy.target('10.0.0.1', 5432, 'audit')).toBeNull();
    expect(policy.target('10.0.0.1', 5432, 'orders')).not.toBeNull();
    expect(policy.target('replica.internal', 5432, 'orders')).toBeNull();
    expect(policy.target('db', 5432, 'reporting')).toBeNull();
    expect(policy.target('db', 6000, 'x')).toBeNull();
    expect(policy.target('db', 5432, 'x')?.name).toBe('postgresql://db:5432/x');
  });

  it('breakerKey renames; a bad or throwing key falls back to the name', () => {
    const byHost = new DbPolicy('mysql', { breakerKey: (d) => `mysql-${d.host}` }, connectionError);
    expect(byHost.target('a', 3306, 'x')?.name).toBe('mysql-a');
    const bad = new DbPolicy('mysql', { breakerKey: () => '' }, connectionError);
    expect(bad.target('a', 3306, 'x')?.name).toBe('mysql://a:3306/x');
    const throwing = new DbPolicy(
      'mysql',
      {
        breakerKey: () => {
          throw new Error('no');
        },
      },
      connectionError,
    );
    expect(throwing.target('a', 3306, 'x')?.name).toBe('mysql://a:3306/x');
  });

  it('isFailure: user rule first, undefined keeps the default, a throw falls back; non-errors are wrapped', () => {
    const d = new DbPolicy('redis', {}, connectionError).target('h', 1, 0)!.destination;
    const refused = Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
    const syntax = Object.assign(new Error('syntax'), { code: 'ERR' });
    const plain = new DbPolicy('redis', {}, connectionError);
    expect(plain.isFailure(refused, d)).toBe(true);
    expect(plain.isFailure(syntax, d)).toBe(false);
    expect(plain.isFailure('a string', d)).toBe(false);
    const user = new DbPolicy('redis', { isFailure: (e) => (e.message === 'syntax' ? true : undefined) }, connectionError);
    expect(user.isFailure(syntax, d)).toBe(true);
    expect(user.isFailure(refused, d)).toBe(true);
    const throwing = new DbPolicy(
      'redis',
      {
        isFailure: () => {
          throw new Error('bug');
        },
      },
      connectionError,
    );
    expect(throwing.isFailure(refused, d)).toBe(true);
  });
});

describe('admit and DbCall', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  afterEach(() => exporter.reset());

  function setup() {
    const clock = fakeClock();
    const registry = new CircuitBreakerRegistry({ clock, random: () => 0, defaults: { minimumRequests: 2, failureThreshold: 0.5, resetTimeout: 1000 } });
    const telemetry = new BreakerTelemetry(registry, 'test');
    telemetry.useTracerProvider(provider);
    const policy = new DbPolicy('postgresql', {}, connectionError);
    return { clock, registry, runtime: { registry, telemetry }, policy, target: policy.target('127.0.0.1', 5432, 'test')! };
  }

  it('counts server failures, not application errors, and refuses once open with a DB span', () => {
    const { registry, runtime, policy, target } = setup();
    for (let i = 0; i < 4; i++) admit(runtime, policy, target, 'SELECT').call!.settle(new Error('syntax error'));
    expect(registry.get(target.name).state).toBe('closed');
    expect(registry.get(target.name).failures).toBe(0);
    registry.get(target.name).reset();
    for (let i = 0; i < 2; i++) admit(runtime, policy, target, 'SELECT').call!.settle(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }));
    expect(registry.get(target.name).state).toBe('open');
    const a = admit(runtime, policy, target, 'SELECT');
    expect(a.refused).toBeInstanceOf(CircuitOpenError);
    expect(a.refused!.breaker).toBe('postgresql://127.0.0.1:5432/test');
    const span = exporter.getFinishedSpans().find((s) => s.events.some((e) => e.name === 'selfheal.breaker.rejected'));
    expect(span?.attributes).toMatchObject({ 'db.system.name': 'postgresql', 'db.namespace': 'test', 'db.operation.name': 'SELECT', 'error.type': 'CircuitOpenError' });
    expect(span?.name).toBe('SELECT test');
  });

  it('settles once; release says nothing about the server', () => {
    const { registry, runtime, policy, target } = setup();
    const call = admit(runtime, policy, target, 'connect').call!;
    call.settle(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }));
    call.settle(); // ignored
    call.release(); // ignored
    const b = registry.get(target.name);
    expect(b.failures).toBe(1);
    expect(b.successes).toBe(0);
    const released = admit(runtime, policy, target, 'connect').call!;
    released.release();
    expect(released.isSettled).toBe(true);
    expect(b.failures + b.successes).toBe(1);
  });
});

describe('wrapMethod', () => {
  it('wraps once, routes to the active owner, passes through when none, survives a replacement on top', () => {
    class Client {
      query(x: number): number {
        return x * 2;
      }
    }
    const calls: number[] = [];
    const make = (slot: MethodSlot<{ tag: string }>) =>
      function (this: unknown, ...args: unknown[]) {
        if (slot.active) calls.push(args[0] as number);
        return slot.original.apply(this, args);
      };
    const slot = wrapMethod<{ tag: string }>(Client.prototype, 'query', 'test', make)!;
    expect(isOurs(Client.prototype.query)).toBe(true);
    expect(Client.prototype.query.name).toBe('query');
    expect(wrapMethod(Client.prototype, 'query', 'test', make)).toBe(slot);
    expect(new Client().query(2)).toBe(4);
    expect(calls).toEqual([]);
    slot.active = { tag: 'a' };
    expect(new Client().query(3)).toBe(6);
    expect(calls).toEqual([3]);
    // Someone replaces the method without calling ours: we wrap again on top, the old one passes through.
    const replaced = function (this: Client, x: number) {
      return x * 10;
    };
    Client.prototype.query = replaced;
    const again = wrapMethod<{ tag: string }>(Client.prototype, 'query', 'test', make)!;
    expect(again).not.toBe(slot);
    expect(slot.active).toBeUndefined();
    again.active = { tag: 'b' };
    expect(new Client().query(1)).toBe(10);
    expect(calls).toEqual([3, 1]);
    expect(wrapMethod({ notAFunction: 1 }, 'notAFunction', 'test', make)).toBeUndefined();
  });
});

describe('DbPoolComponent', () => {
  it('drains every live tracked client once per restart, and reports a failing drain', async () => {
    const component = new DbPoolComponent('postgresql://h:1/db');
    const drained: string[] = [];
    const a = { id: 'a' };
    const b = { id: 'b' };
    const drain = (c: object) => {
      drained.push((c as { id: string }).id);
    };
    component.track(a, drain);
    component.track(a, drain); // once
    component.track(b, drain);
    expect(component.tracked).toBe(2);
    await component.restart(new AbortController().signal);
    expect(drained.sort()).toEqual(['a', 'b']);
    expect(component.lastDrained).toBe(2);
    component.track({ id: 'bad' }, () => Promise.reject(new Error('cannot drain')));
    await expect(component.restart(new AbortController().signal)).rejects.toThrow('cannot drain');
    component.close();
    expect(component.tracked).toBe(0);
  });
});

describe('database breaker overrides', () => {
  it('are keyed like the instrumentations name breakers (credentials dropped, host lower-cased, default port)', async () => {
    const { SelfHealing } = await import('../../src/SelfHealing.js');
    const plugin = new SelfHealing({
      overrides: {
        'postgres://app:secret@DB.local/orders': { failureThreshold: 0.9 },
        'redis://cache.local': { minimumRequests: 7 },
        'mysql://db.local:3307/shop': { resetTimeout: 1234 },
      },
    });
    try {
      expect(plugin.breakers.get('postgresql://db.local:5432/orders').options.failureThreshold).toBe(0.9);
      expect(plugin.breakers.get('redis://cache.local:6379/0').options.minimumRequests).toBe(7);
      expect(plugin.breakers.get('mysql://db.local:3307/shop').options.resetTimeout).toBe(1234);
      expect(plugin.breakers.get('postgresql://db.local:5432/other').options.failureThreshold).not.toBe(0.9);
    } finally {
      await plugin.shutdown();
    }
  });
});

describe('DbPoolComponent checks', () => {
  it('has checkHealth only once a client with a check is tracked, and reads the check on the latest live one', async () => {
    const component = new DbPoolComponent('redis://h:1/0');
    component.track({ id: 'no-check' }, () => undefined);
    expect(component.checkHealth).toBeUndefined();
    let answer: Promise<unknown> = Promise.resolve('PONG');
    const client = { id: 'c' };
    component.track(client, () => undefined, () => answer);
    const signal = new AbortController().signal;
    expect(await component.checkHealth!(signal)).toEqual({ kind: 'healthy' });
    answer = Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    expect(await component.checkHealth!(signal)).toEqual({ kind: 'failed', reason: 'check query failed: ECONNREFUSED' });
    answer = new Promise(() => undefined); // hangs: the verification's signal ends it
    const timeout = AbortSignal.timeout(50);
    await expect(component.checkHealth!(timeout)).resolves.toMatchObject({ kind: 'failed' });
  });
});
