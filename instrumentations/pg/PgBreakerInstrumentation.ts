import { SpanKind, context, trace, type Span } from '@opentelemetry/api';
import { DbBreakerInstrumentation, admit, unguarded, wrapMethod, type DbBreakerInstrumentationConfig, type DbTarget, type MethodSlot, type PatchPoint } from '../shared/index.js';
import { captureConnectionParameters, poolParameters } from './destination.js';
import { isPgFailure } from './failure.js';
import { drainPool } from './pool.js';
import { operationOf, refuseConnect, refuseQuery, runQuery, settling, type PgClient } from './query.js';

type Fn = (this: unknown, ...args: unknown[]) => unknown;
type Args = IArguments | unknown[];
type Guard = 'guardQuery' | 'guardConnect' | 'guardPoolConnect';

const PG_VERSIONS = ['>=8 <9'];
const POOL_VERSIONS = ['>=3 <4'];
/** How many times the query wrapper moves back on top of wrappers put over it (bounds the chain). */
const MAX_REWRAPS = 4;
/** Names of the official instrumentation's connect spans, which it makes active around the call. */
const OFFICIAL_CONNECT_SPANS = new Set(['pg.connect', 'pg-pool.connect']);

/**
 * Puts node-postgres behind one breaker per server and database (`postgresql://host:port/db`):
 * `Client#query` (promise, callback, config object, Submittable such as pg-cursor),
 * `Client#connect`, and pg-pool's `Pool#connect` (so `pool.query` too, and an open breaker
 * makes no pooled client). A refused call fails through pg's own error path with a
 * `CircuitOpenError` and opens no connection. Pools are reported for recovery with a drain
 * that renews their idle clients.
 *
 * The official instrumentation wraps `query` and `connect` twice (its `pg/lib/client.js` hook,
 * then its `pg` hook) and its query span is not the active span, so a refusal under it could
 * not be marked: our query wrapper sits above it (research/otel.md §2.3).
 */
export class PgBreakerInstrumentation extends DbBreakerInstrumentation {
  /** The wrapper slots in use, one per patched prototype method. */
  private readonly slots = new Map<string, MethodSlot<PgBreakerInstrumentation>>();
  private readonly targets = new WeakMap<object, DbTarget | null>();

  constructor(config: DbBreakerInstrumentationConfig) {
    super('otel-self-heal/instrumentation-pg', 'postgresql', isPgFailure, config);
    this.enableIfConfigured();
  }

  protected patchPoints(): PatchPoint[] {
    return [
      { module: 'pg', file: 'lib/connection-parameters.js', versions: PG_VERSIONS, patch: captureConnectionParameters },
      { module: 'pg', file: 'lib/client.js', versions: PG_VERSIONS, patch: (exports) => this.patchClient(exports) },
      { module: 'pg-pool', file: 'index.js', main: true, versions: POOL_VERSIONS, patch: (exports) => this.patchPool(exports) },
    ];
  }

  protected activate(on: boolean): void {
    for (const slot of this.slots.values()) {
      if (on) slot.active = this;
      else if (slot.active === this) slot.active = undefined;
    }
  }

  private patchClient(exports: unknown): void {
    const proto = (exports as { prototype?: object } | undefined)?.prototype;
    if (!proto) return;
    // The official instrumentation patched this file first and will patch again from its `pg`
    // hook: wrapping between its two wrappers would leave both in the chain (two spans per call).
    if (isShimmerWrapped((proto as Record<string, unknown>).query)) {
      queueMicrotask(() => this.patchClientNow(proto));
      return;
    }
    this.patchClientNow(proto);
  }

  private patchClientNow(proto: object): void {
    try {
      this.wrap(proto, 'Client', 'query', 'guardQuery', true);
      this.wrap(proto, 'Client', 'connect', 'guardConnect', false);
      this.activate(this.enabled);
    } catch (err) {
      this._diag.error('otel-self-heal: could not guard pg; its calls go through unguarded', err);
    }
  }

  private patchPool(exports: unknown): void {
    const Pool = (exports as Record<symbol, unknown>)[Symbol.toStringTag] === 'Module' ? (exports as { default?: unknown }).default : exports;
    const proto = (Pool as { prototype?: object } | undefined)?.prototype;
    if (proto) this.wrap(proto, 'Pool', 'connect', 'guardPoolConnect', false);
  }

  /**
   * Wraps `proto[method]` with a wrapper routing to the active instance's `guard`. With
   * `onTop`, a wrapper that finds someone else's wrapper above it moves on top again (at most
   * {@link MAX_REWRAPS} times), leaving itself as a pass-through below.
   */
  private wrap(proto: object, key: string, method: string, guard: Guard, onTop: boolean): void {
    let rewraps = 0;
    const make = (slot: MethodSlot<PgBreakerInstrumentation>): Fn => {
      const wrapper = function (this: unknown) {
        const inst = slot.active;
        // eslint-disable-next-line prefer-rest-params
        if (inst === undefined || this === null || typeof this !== 'object') return slot.original.apply(this, arguments as unknown as unknown[]);
        if (onTop && (proto as Record<string, unknown>)[method] !== wrapper && rewraps < MAX_REWRAPS) {
          rewraps++;
          inst.rewrap(proto, key, method, make);
        }
        // eslint-disable-next-line prefer-rest-params
        return inst[guard](this, slot.original, arguments);
      };
      return wrapper;
    };
    const slot = wrapMethod<PgBreakerInstrumentation>(proto, method, key, make);
    if (slot) this.slots.set(slotKey(proto, key, method), slot);
  }

  private rewrap(proto: object, key: string, method: string, make: (slot: MethodSlot<PgBreakerInstrumentation>) => Fn): void {
    try {
      const slot = wrapMethod<PgBreakerInstrumentation>(proto, method, key, make);
      if (!slot) return;
      this.slots.set(slotKey(proto, key, method), slot); // the one below passes through from now on
      slot.active = this;
    } catch (err) {
      this._diag.debug('otel-self-heal: pg wrapper stays below another wrapper', err);
    }
  }

  /** @internal `Client#query(config, values?, callback?)`. */
  guardQuery(client: object, original: Fn, args: Args): unknown {
    const config = args[0];
    let admission;
    try {
      const target = config == null ? null : this.targetOf(client, false);
      if (target === null) return original.apply(client, args as unknown[]);
      admission = admit(this.runtime, this.policy, target, operationOf(config));
    } catch (err) {
      this.unguarded(err);
      return original.apply(client, args as unknown[]);
    }
    if (admission.refused) return refuseQuery(client as PgClient, args, admission.refused);
    try {
      return runQuery(client as PgClient, original, args, admission.call);
    } catch (err) {
      admission.call.release(); // pg threw before sending anything (a bad argument)
      throw err;
    }
  }

  /** @internal `Client#connect(callback?)`. */
  guardConnect(client: object, original: Fn, args: Args): unknown {
    const callback = args[0];
    let admission;
    try {
      const target = this.targetOf(client, false);
      if (target === null) return original.apply(client, args as unknown[]);
      admission = admit(this.runtime, this.policy, target, 'connect', this.officialConnectSpan());
    } catch (err) {
      this.unguarded(err);
      return original.apply(client, args as unknown[]);
    }
    if (admission.refused) return refuseConnect(client as PgClient, callback, admission.refused);
    const call = admission.call;
    if (typeof callback === 'function') return original.call(client, settling(call, callback as Fn));
    const result = original.call(client) as Promise<unknown>;
    return result.then(
      (value) => {
        call.settle();
        return value;
      },
      (err: unknown) => {
        call.settle(err);
        throw err;
      },
    );
  }

  /**
   * @internal `Pool#connect(callback?)`: refused while the breaker refuses, without making a client or
   * waiting in the pool's queue. Let through, it records nothing itself: the client's own
   * connect (for a new client) and queries are what count.
   */
  guardPoolConnect(pool: object, original: Fn, args: Args): unknown {
    try {
      const target = (pool as { ending?: boolean }).ending ? null : this.targetOf(pool, true);
      if (target !== null) {
        const admission = admit(this.runtime, this.policy, target, 'connect', this.officialConnectSpan());
        if (admission.refused) return refuseConnect(pool as PgClient, args[0], admission.refused);
        admission.call.release();
      }
    } catch (err) {
      this.unguarded(err);
    }
    return original.apply(pool, args as unknown[]);
  }

  /** The target of a client (from its connection parameters) or pool (from its options), cached per object. */
  private targetOf(owner: object, pool: boolean): DbTarget | null {
    let t = this.targets.get(owner);
    if (t === undefined) {
      t = null;
      try {
        const p = pool ? poolParameters((owner as { options?: unknown }).options) : (owner as PgClient).connectionParameters;
        if (p) t = this.policy.target(p.host, p.port, p.database);
        if (t && pool) this.runtime.pools?.track(t.name, owner, drainPool, checkPool);
      } catch (err) {
        // A malformed connection string: pg reports it its own way when the pool makes a client.
        this._diag.debug('otel-self-heal: no pg destination; the calls go through unguarded', err);
      }
      this.targets.set(owner, t);
    }
    return t;
  }

  /** The span the official instrumentation opened around this connect, when it wraps ours. */
  private officialConnectSpan(): Span | undefined {
    const span = trace.getSpan(context.active());
    if (!span?.isRecording()) return undefined;
    const s = span as unknown as { kind?: SpanKind; name?: string };
    return s.kind === SpanKind.CLIENT && s.name !== undefined && OFFICIAL_CONNECT_SPANS.has(s.name) ? span : undefined;
  }

  /** Our own failure, never the application's: the call goes through unguarded. */
  private unguarded(err: unknown): void {
    this._diag.error('otel-self-heal: guarding a pg call failed; it goes through unguarded', err);
  }
}

/** The official instrumentations' shimmer marks its wrappers so (`isWrapped`). */
function isShimmerWrapped(fn: unknown): boolean {
  const f = fn as { __wrapped?: unknown; __original?: unknown } | undefined;
  return typeof fn === 'function' && f?.__wrapped === true && typeof f.__original === 'function';
}

// Prototypes get a number, so that two copies of pg (two Client prototypes) keep two slots each.
const protoIds = new WeakMap<object, number>();
let nextProtoId = 0;
function slotKey(proto: object, key: string, method: string): string {
  let id = protoIds.get(proto);
  if (id === undefined) protoIds.set(proto, (id = nextProtoId++));
  return `${key}.${method}#${id}`;
}

interface CheckClient {
  connect(): Promise<unknown>;
  query(sql: string): Promise<unknown>;
  end(): Promise<unknown>;
  on(event: 'error', listener: () => void): unknown;
}

/**
 * Recovery's check of a pool: `SELECT 1` on a client of its own made with the pool's options
 * (so the pool is left as the restart left it), outside the breakers.
 */
function checkPool(pool: object): Promise<unknown> {
  const p = pool as { Client?: new (options: unknown) => CheckClient; options?: unknown };
  if (typeof p.Client !== 'function') return Promise.reject(new Error('the pool has no Client class to check with'));
  const client = new p.Client(p.options);
  client.on('error', () => undefined);
  return unguarded(async () => {
    try {
      await client.connect();
      return await client.query('SELECT 1');
    } finally {
      client.end().catch(() => undefined);
    }
  });
}
