/**
 * How deep the current synchronous stack is inside a call the breaker already decided (an
 * admitted command or batch, ioredis' own reconnection handlers, recovery's reconnect). Calls
 * made at depth > 0 are ioredis' internal work and pass through: a pipeline's commands, the
 * connect a lazy client makes for an admitted command, the SELECT and re-subscriptions sent
 * when a connection becomes ready. One counter per process (on `globalThis`), since the
 * wrappers of whichever copy of this package patched first serve every copy.
 */
export const internalCalls: { depth: number } = ((globalThis as unknown as Record<symbol, { depth: number } | undefined>)[
  Symbol.for('otel-self-heal.ioredis.internal')
] ??= { depth: 0 });
