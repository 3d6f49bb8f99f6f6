import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { CircuitOpenError, isCircuitOpenError } from '../../src/breaker/index.js';
import { cleanup, startPlugin } from './downstream.js';
import {
  HOLD_OPEN,
  REDIS_BREAKER,
  closeAll,
  directClient,
  gets,
  key,
  nameOf,
  redisClient,
  settle,
  startProxy,
  track,
  waitFor,
  type RedisError,
} from './db-ioredis-helpers.js';

afterEach(async () => {
  await cleanup();
  await closeAll();
});

describe('ioredis breaker: tripping and closing against the real server', () => {
  it('opens when the server goes down, fails fast without connecting, half-opens and closes when it is back', async () => {
    const plugin = startPlugin({ breaker: REDIS_BREAKER });
    const proxy = await startProxy();
    const client = redisClient(proxy);
    const k = key('trip');
    expect((await settle(client.set(k, 'before'))).value).toBe('OK');
    const breaker = plugin.breakers.find(nameOf(proxy))!;
    expect(breaker.state).toBe('closed');

    proxy.stopUpstream();
    // With the SET before, 3 failures out of 4 calls pass the threshold.
    const failed = await gets(client, 3, k);
    expect(failed.every((o) => o.error !== undefined)).toBe(true);
    expect(failed.some((o) => isCircuitOpenError(o.error))).toBe(false);
    expect(breaker.failures).toBe(3);
    expect(breaker.peekState()).toBe('open');

    // The failing client reconnects in the background (its retryStrategy): stop it, so that the
    // proxy counts only what the refused calls would open.
    client.disconnect();
    proxy.resetCounters();
    const fresh = redisClient(proxy);
    const refused = await settle(fresh.get(k));
    expect(refused.error).toBeInstanceOf(CircuitOpenError);
    expect(refused.error?.code).toBe('ECIRCUITOPEN');
    expect(refused.error?.breaker).toBe(nameOf(proxy));
    expect(fresh.status).toBe('wait');
    expect(proxy.accepted).toBe(0);

    proxy.startUpstream();
    // Past the reset timeout the next calls probe; the client connects for them and works again.
    await waitFor(() => breaker.state === 'half-open', 5_000, 'half-open');
    const probes = await gets(fresh, 2, k);
    expect(probes.map((o) => o.value)).toEqual(['before', 'before']);
    expect(breaker.state).toBe('closed');
    expect(proxy.accepted).toBe(1);
    expect((await settle(fresh.set(k, 'after'))).value).toBe('OK');
  });

  it('counts commandTimeout expiries against a server that stopped answering, and every call settles', async () => {
    const plugin = startPlugin({ breaker: HOLD_OPEN });
    const proxy = await startProxy();
    const client = redisClient(proxy, { commandTimeout: 300 });
    expect((await settle(client.ping())).value).toBe('PONG');
    proxy.blackhole();
    const outcomes = await gets(client, 3);
    expect(outcomes.map((o) => o.error?.message)).toEqual(Array(3).fill('Command timed out'));
    const breaker = plugin.breakers.find(nameOf(proxy))!;
    expect(breaker.peekState()).toBe('open');
    const refused = await settle(client.get('x'));
    expect(isCircuitOpenError(refused.error)).toBe(true);
  });

  it('opens on ECONNREFUSED from a server that is not listening', async () => {
    const plugin = startPlugin({ breaker: HOLD_OPEN });
    const proxy = await startProxy();
    await proxy.refuse();
    const client = redisClient(proxy);
    const outcomes = await gets(client, 4);
    expect(outcomes.every((o) => o.error !== undefined && !isCircuitOpenError(o.error))).toBe(true);
    expect(plugin.breakers.find(nameOf(proxy))!.peekState()).toBe('open');
  });

  it('a client that was never connected constructs and stays idle while open: no socket', async () => {
    const plugin = startPlugin({ breaker: HOLD_OPEN });
    const proxy = await startProxy();
    plugin.breakers.get(nameOf(proxy)).forceOpen();
    const eager = track(new Redis({ host: '127.0.0.1', port: proxy.port, maxRetriesPerRequest: 0, retryStrategy: () => 50 }));
    const lazy = redisClient(proxy);
    const connected = await settle(lazy.connect());
    expect(isCircuitOpenError(connected.error)).toBe(true);
    const viaCallback = await new Promise<Error | null>((resolve) => void lazy.connect((err) => resolve(err ?? null)).catch(() => undefined));
    expect(isCircuitOpenError(viaCallback)).toBe(true);
    expect(isCircuitOpenError((await settle(eager.get('x'))).error)).toBe(true);
    expect([eager.status, lazy.status]).toEqual(['wait', 'wait']);
    expect(proxy.accepted).toBe(0);

    plugin.breakers.get(nameOf(proxy)).reset();
    expect((await settle(eager.ping())).value).toBe('PONG');
    expect((await settle(lazy.ping())).value).toBe('PONG');
  });
});

describe('ioredis breaker: every call form fails fast through its own error path', () => {
  it('promise, callback, pipeline, multi and auto-pipelined commands get a CircuitOpenError and nothing reaches the server', async () => {
    const plugin = startPlugin({ breaker: HOLD_OPEN });
    const proxy = await startProxy();
    const client = redisClient(proxy);
    const auto = redisClient(proxy, { enableAutoPipelining: true });
    const k = key('forms');
    expect((await settle(client.ping())).value).toBe('PONG');
    const breaker = plugin.breakers.get(nameOf(proxy));
    breaker.forceOpen();
    proxy.resetCounters();

    expect(isCircuitOpenError((await settle(client.set(k, 'promise'))).error)).toBe(true);
    const cbError = await new Promise<Error | null | undefined>((resolve) => void client.set(k, 'callback', (err) => resolve(err)).catch(() => undefined));
    expect(isCircuitOpenError(cbError)).toBe(true);

    const piped = await settle(client.pipeline().set(k, 'pipeline').incr(`${k}:n`).exec());
    const results = piped.value as Array<[RedisError | null, unknown]>;
    expect(results).toHaveLength(2);
    expect(results.every(([err, value]) => isCircuitOpenError(err) && value === undefined)).toBe(true);
    const viaCallback = await new Promise<unknown>((resolve) => void client.pipeline().get(k).exec((err, res) => resolve(err ?? res)));
    expect(isCircuitOpenError((viaCallback as Array<[Error]>)[0]![0])).toBe(true);

    const tx = await settle(client.multi().set(k, 'multi').incr(`${k}:n`).exec());
    expect(isCircuitOpenError(tx.error)).toBe(true);
    expect(tx.error!.previousErrors?.every((e) => isCircuitOpenError(e) && e !== tx.error)).toBe(true);

    const batch = await Promise.all([settle(auto.get(k)), settle(auto.get(`${k}:n`)), settle(auto.set(k, 'auto'))]);
    expect(batch.every((o) => isCircuitOpenError(o.error))).toBe(true);

    expect(proxy.accepted).toBe(0);
    // The command, callback command, two pipelines, the multi and one auto-pipelined batch.
    expect(breaker.rejections).toBe(6);
    const direct = directClient();
    expect(await direct.exists(k, `${k}:n`)).toBe(0);
  });

  it("counts a pipeline or a multi as one call, and their commands' application errors as no failure", async () => {
    const plugin = startPlugin({ breaker: REDIS_BREAKER });
    const proxy = await startProxy();
    const client = redisClient(proxy);
    const k = key('batch');
    expect((await settle(client.set(k, 'string'))).value).toBe('OK');
    const breaker = plugin.breakers.find(nameOf(proxy))!;
    const before = breaker.successes;
    for (let i = 0; i < 5; i++) {
      // LPUSH on a string: WRONGTYPE inside the batch, answered by a healthy server.
      const res = (await settle(client.pipeline().get(k).lpush(k, 'x').exec())).value as Array<[Error | null, unknown]>;
      expect(res[1]![0]?.message).toMatch(/^WRONGTYPE/);
    }
    const tx = await settle(client.multi().get(k).lpush(k, 'x').exec());
    expect((tx.value as Array<[Error | null, unknown]>)[1]![0]?.message).toMatch(/^WRONGTYPE/);
    const aborted = await settle(client.multi().set(k, 'y').call('NOSUCHCOMMAND').exec());
    expect(aborted.error?.message).toMatch(/^EXECABORT/);
    expect(breaker.successes - before).toBe(7);
    expect(breaker.failures).toBe(0);
    expect(breaker.state).toBe('closed');
  });
});

describe('ioredis breaker: clients made before and after the plugin', () => {
  it('guards a client connected before the plugin started, and lets it go when the plugin shuts down', async () => {
    const proxy = await startProxy();
    const early = redisClient(proxy, { lazyConnect: false });
    expect((await settle(early.ping())).value).toBe('PONG');
    const plugin = startPlugin({ breaker: HOLD_OPEN });
    const late = redisClient(proxy);
    expect((await settle(early.ping())).value).toBe('PONG');
    expect((await settle(late.ping())).value).toBe('PONG');
    const breaker = plugin.breakers.find(nameOf(proxy))!;
    expect(breaker.successes).toBe(2);
    breaker.forceOpen();
    expect(isCircuitOpenError((await settle(early.ping())).error)).toBe(true);
    expect(isCircuitOpenError((await settle(late.ping())).error)).toBe(true);

    await plugin.shutdown();
    expect((await settle(early.ping())).value).toBe('PONG');
    expect((await settle(late.ping())).value).toBe('PONG');
    expect(breaker.rejections).toBe(2);
  });
});
