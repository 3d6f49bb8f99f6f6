import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultProxy } from '../support/faultProxy.js';

/** One Redis PING through the proxy: resolves with the reply or the socket error's code. */
function ping(port: number, timeoutMs = 300): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (v: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => done(d.toString().trim()));
    socket.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? 'error'));
    socket.on('close', () => done('closed'));
  });
}

describe('FaultProxy (test support) in front of the real Redis', () => {
  let proxy: FaultProxy | undefined;
  afterEach(async () => proxy?.close());

  it('passes traffic, then injects each fault and heals', async () => {
    proxy = await FaultProxy.start({ upstreamPort: 6379 });
    expect(await ping(proxy.port)).toBe('+PONG');

    proxy.latency(120);
    const t0 = performance.now();
    expect(await ping(proxy.port, 1000)).toBe('+PONG');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(200); // one delay each way
    proxy.latency(0);

    proxy.blackhole();
    expect(await ping(proxy.port)).toBe('timeout');

    proxy.stopUpstream();
    expect(['ECONNRESET', 'closed']).toContain(await ping(proxy.port));

    await proxy.refuse();
    expect(await ping(proxy.port)).toBe('ECONNREFUSED');

    await proxy.heal();
    expect(await ping(proxy.port)).toBe('+PONG');
  });

  it('reset() drops open connections but not the listener', async () => {
    proxy = await FaultProxy.start({ upstreamPort: 6379 });
    const socket = net.connect({ host: '127.0.0.1', port: proxy.port });
    await new Promise((r) => socket.once('connect', r));
    await new Promise((r) => setTimeout(r, 20));
    expect(proxy.openConnections).toBe(1);
    const closed = new Promise((r) => socket.once('close', r));
    socket.on('error', () => undefined);
    proxy.reset();
    await closed;
    expect(proxy.openConnections).toBe(0);
    expect(await ping(proxy.port)).toBe('+PONG');
  });
});
