/**
 * Plain (un-shimmered) method wrappers on shared prototypes. The official instrumentations
 * unwrap anything shimmer marked (`__wrapped`), whoever wrapped it: ours must survive them in
 * any load order (research/otel.md §2.3). One wrapper per prototype method per process, shared
 * by every copy of this package; it routes to whichever instrumentation is active, and is a
 * pass-through when none is (so disabling never unwraps what others put on top).
 */

type Fn = (this: unknown, ...args: unknown[]) => unknown;

/** A wrapped method: the original, and the instrumentation that handles calls now. */
export interface MethodSlot<I> {
  readonly original: Fn;
  active: I | undefined;
}

interface StoredSlot<I> extends MethodSlot<I> {
  wrapper: Fn;
}

const MARK = Symbol.for('otel-self-heal.db.wrapper');

/**
 * Wraps `proto[method]` once and returns its slot. `handler(slot)` makes the wrapper's body:
 * it must call `slot.original` when `slot.active` is undefined. When someone replaced our
 * wrapper without keeping it in the chain, a new wrapper goes on top and the old one becomes
 * a pass-through.
 */
export function wrapMethod<I>(proto: object, method: string, key: string, handler: (slot: MethodSlot<I>) => Fn): MethodSlot<I> | undefined {
  const target = proto as Record<string | symbol, unknown>;
  const symbol = Symbol.for(`otel-self-heal.db.${key}.${method}`);
  const current = target[method];
  if (typeof current !== 'function') return undefined;
  let slot = target[symbol] as StoredSlot<I> | undefined;
  if (slot && (current === slot.wrapper || isOurs(current))) return slot;
  if (slot) slot.active = undefined; // the old wrapper, somewhere below, passes through from now on
  const s = { original: current as Fn, active: undefined } as StoredSlot<I>;
  s.wrapper = handler(s);
  Object.defineProperty(s.wrapper, MARK, { value: true });
  copyName(s.wrapper, current as Fn);
  target[method] = s.wrapper;
  Object.defineProperty(target, symbol, { value: s, configurable: true, writable: true });
  slot = s;
  return slot;
}

/** True for a wrapper made by {@link wrapMethod} (any copy of this package). */
export function isOurs(fn: unknown): boolean {
  return typeof fn === 'function' && (fn as unknown as Record<symbol, unknown>)[MARK] === true;
}

function copyName(wrapper: Fn, original: Fn): void {
  try {
    Object.defineProperty(wrapper, 'name', { value: original.name, configurable: true });
    Object.defineProperty(wrapper, 'length', { value: original.length, configurable: true });
  } catch {
    // a name is cosmetic
  }
}
