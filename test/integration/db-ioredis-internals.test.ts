import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isCircuitOpenError } from '../../src/breaker/index.js';
import { cleanup, startPlugin } from './downstream.js';
import { HOLD_OPEN, closeAll, directClient, key, nameOf, redisClient, settle, startProxy, track, waitFor } from './db-ioredis-helpers.js';

afterEach(async () => {
  vi.restoreAllMocks();
  await cleanup();
  await closeAll();
});

describe('ioredis breaker: what counts', () => {
  it("never counts the application's own errors: WRONGTYPE, wrong arguments, unknown command, NOSCRIPT", async () => {
    const plugin = startPlugin({ breaker: HOLD_OPEN });
    const proxy = await startProxy();
    const client = redisClient(proxy);
    const k = key('apperr');
    await client.set(k, 'string');
    const errors: string[] = [];
    for (let i = 0; i < 2; i++) {
      for (const p of [client.lpush(k, 'x'), client.call('GET'), client.call('NOSUCHCOMMAND'), client.evalsha('0'.repeat(40), 0)]) {
        errors.push((await settle(p)).error?.message.split(' ')[0] ?? 'no error');
      }
    }
    expect(errors).toEqual(['WRONGTYPE', 'ERR', 'ERR', 'NOSCRIPT', 'WRONGTYPE', 'ERR', 'ERR', 'NOSCRIPT']);
    const breaker = plugin.breakers.find(nameOf(proxy))!;
    expect(breaker.failures).toBe(0);
    expect(breaker.successes).toBe(9);
    expect(breaker.state).toBe('closed');
  });

  it('treats wrong credentials as an answer: an unknown ACL user (WRONGPASS) never trips, a needless password works', async () => {
    const plugin = startPlugin({ breaker: HOLD_OPEN });
    const proxy = await startProxy();
    const outcomes = [];
    for (let i = 0; i < 5; i++) {
      const client = redisClient(proxy, { username: 'selfheal-no-such-user', password: 'secret', retryStrategy: () => null });
      outcomes.push(await settle(client.get('x')));
    }
    expect(outcomes.map((o) => o.error?.message.split(' ')[0])).toEqual(Array(5).fill('WRONGPASS'));
    const breaker = plugin.breakers.find(nameOf(proxy))!;
    expect([breaker.failures, breaker.state]).toEqual([0, 'closed']);
    expect(breaker.successes).toBe(5);
    expect(plugin.breakers.list().some((b) => b.name.includes('secret') || b.name.includes('no-such-user'))).toBe(false);

    // This server has no password: ioredis warns and carries on.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const withPassword = redisClient(proxy, { password: 'not-needed' });
    expect((await settle(withPassword.ping())).value).toBe('PONG');
    expect(warn.mock.calls.some((c) => String(c[0]).includes('does not require a password'))).toBe(true);
  });

  it('lets a user rule decide: db.isFailure can make WRONGTYPE count', async () => {
    const plugin = startPlugin({
      breaker: HOLD_OPEN,
      db: { isFailure: (error, destination) => (destination.system === 'redis' && error.message.startsWith('WRONGTYPE') ? true : undefined) },
    });
    const proxy = await startProxy();
    const client = redisClient(proxy);
    const k = key('rule');
    await client.set(k, 'string');
    for (let i = 0; i < 3; i++) await settle(client.lpush(k, 'x'));
    expect(plugin.breakers.find(nameOf(proxy))!.peekState()).toBe('open');
  });

  it('does not count ioredis reconnecting by itself, only the commands that waited', async () => {
    const plugin = startPlugin({ breaker: HOLD_OPEN });
    const proxy = await startProxy();
    proxy.stopUpstream();
    const client = redisClient(proxy, { lazyConnect: false, retryStrategy: () => 20 });
    await waitFor(() => proxy.accepted >= 5, 8_000, 'five reconnection attempts');
    const breaker = plugin.breakers.find(nameOf(proxy))!;
    expect([breaker.windowCalls, breaker.failures, breaker.successes]).toEqual([0, 0, 0]);
    expect((await settle(client.get('x'))).error).toBeDefined();
    expect([breaker.windowCalls, breaker.failures]).toEqual([1, 1]);
  });

  it("passes and does not count the commands of a client that was closed: ioredis' own 'Connection is closed.'", async () => {
    const plugin = startPlugin({ breaker: HOLD_OPEN });
    const proxy = await startProxy();
    const client = redisClient(proxy);
    await client.ping();
    client.disconnect();
    await waitFor(() => client.status === 'end', 5_000, 'the client to end');
    plugin.breakers.get(nameOf(proxy)).forceOpen();
    const outcome = await settle(client.get('x'));
    expect(outcome.error?.message).toBe('Connection is closed.');
    const breaker = plugin.breakers.find(nameOf(proxy))!;
    expect([breaker.failures, breaker.rejections]).toEqual([0, 0]);
  });
});

describe("ioredis breaker: ioredis' own work is never refused", () => {
  it('restores the selected database and the subscriptions after a reconnect while the breaker is open', async () => {
    const plugin = startPlugin({ breaker: HOLD_OPEN });
    const proxy = await startProxy();
    const client = redisClient(proxy);
    const subscriber = redisClient(proxy);
    const direct = directClient(4);
    const k = key('db4');
    const channel = key('channel');
    await direct.set(k, 'in db 4');
    expect(await client.select(4)).toBe('OK');
    const received: string[] = [];
    subscriber.on('message', (_ch: string, message: string) => received.push(message));
    await subscriber.subscribe(channel);

    proxy.reset();
    plugin.breakers.get(nameOf(proxy)).forceOpen();
    await waitFor(() => client.status !== 'ready' && subscriber.status !== 'ready', 5_000, 'the connections to drop');
    await waitFor(() => client.status === 'ready' && subscriber.status === 'ready', 5_000, 'the clients to reconnect');
    // While open, application commands are refused, but ioredis re-selected db 4 and re-subscribed.
    expect(isCircuitOpenError((await settle(client.get(k))).error)).toBe(true);
    const deadline = Date.now() + 5_000;
    while (received.length === 0 && Date.now() < deadline) {
      await direct.publish(channel, 'after reconnect');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(received[0]).toBe('after reconnect');
    plugin.breakers.get(nameOf(proxy)).reset();
    expect((await settle(client.get(k))).value).toBe('in db 4');
  });

  it('never cuts a multi({ pipeline: false }) transaction in half, and lets quit through', async () => {
    const plugin = startPlugin({ breaker: HOLD_OPEN });
    const proxy = await startProxy();
    const client = redisClient(proxy);
    const [a, b] = [key('tx-a'), key('tx-b')];
    expect(await client.multi({ pipeline: false })).toBe('OK');
    expect(await client.set(a, '1')).toBe('QUEUED');
    const breaker = plugin.breakers.get(nameOf(proxy));
    breaker.forceOpen();
    expect(await client.set(b, '2')).toBe('QUEUED');
    expect(await client.exec()).toEqual([
      [null, 'OK'],
      [null, 'OK'],
    ]);
    expect(await directClient().mget(a, b)).toEqual(['1', '2']);
    expect(isCircuitOpenError((await settle(client.get(a))).error)).toBe(true);
    expect((await settle(client.quit())).value).toBe('OK');
    await waitFor(() => client.status === 'end', 5_000, 'the client to end');
  });
});

describe('ioredis breaker: recovery', () => {
  it('drains a client whose retryStrategy never reconnects: connected again, past an open breaker, and working', async () => {
    const plugin = startPlugin({ breaker: HOLD_OPEN });
    const proxy = await startProxy();
    const client = redisClient(proxy, { retryStrategy: () => null });
    const k = key('drain');
    expect((await settle(client.set(k, 'v'))).value).toBe('OK');
    const accepted = proxy.accepted;
    plugin.breakers.get(nameOf(proxy)).forceOpen();

    const outcome = await plugin.recovery.requestRecovery(nameOf(proxy), 'connection-lost', { kind: 'failed', reason: 'test' });
    expect(outcome.attempts[0]?.action).toBe('restart');
    expect(outcome.attempts[0]?.success).toBe(true);
    expect(proxy.accepted).toBe(accepted + 1);
    expect(client.status).toBe('ready');
    plugin.breakers.get(nameOf(proxy)).reset();
    expect((await settle(client.get(k))).value).toBe('v');
  });
});

describe('ioredis breaker: options and bad input', () => {
  it("leaves a malformed URL to ioredis' own error; a URL names the breaker without its credentials", async () => {
    const plugin = startPlugin({ breaker: HOLD_OPEN });
    const proxy = await startProxy();
    expect(() => new Redis('redis://127.0.0.1:notaport/0', { lazyConnect: true })).toThrow('Invalid URL');
    expect(() => new Redis('not a url at all', { lazyConnect: true })).toThrow('Invalid URL');
    const fromUrl = track(new Redis(`redis://default:hunter2@127.0.0.1:${proxy.port}/5`, { lazyConnect: true, maxRetriesPerRequest: 0 }));
    vi.spyOn(console, 'warn').mockImplementation(() => undefined); // the server has no password
    expect((await settle(fromUrl.ping())).value).toBe('PONG');
    expect(plugin.breakers.list().map((b) => b.name)).toEqual([nameOf(proxy, 5)]);
  });

  it('does not guard ignored destinations, nor anything with db.ioredis: false', async () => {
    const proxy = await startProxy();
    let plugin = startPlugin({ breaker: HOLD_OPEN, db: { ignore: [nameOf(proxy)] } });
    const client = redisClient(proxy);
    expect((await settle(client.ping())).value).toBe('PONG');
    expect(plugin.breakers.find(nameOf(proxy))).toBeUndefined();
    await cleanup();
    plugin = startPlugin({ breaker: HOLD_OPEN, db: { ioredis: false } });
    expect((await settle(client.ping())).value).toBe('PONG');
    expect(plugin.breakers.size).toBe(0);
  });
});
