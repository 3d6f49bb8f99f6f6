/**
 * One chaos run: the downstreams and fault proxies in this process, the service in a child
 * process (service.mjs, on the built package), a steady load, and the seeded fault schedule.
 * Returns what was observed; `report.ts` judges it.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FaultProxy } from '../support/faultProxy.js';
import { Downstream, relayTo } from './downstreams.js';
import { FaultInjector } from './faults.js';
import { LoadGenerator } from './load.js';
import { ServiceProcess } from './serviceProcess.js';
import { makeSchedule, runLengthMs, type Profile, type Target } from './schedule.js';
import type { ChaosRun } from './types.js';

const DIST = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../dist/index.js');

/** The service's routes and what each depends on. */
export const ROUTES: Readonly<Record<string, Target | 'healthy'>> = {
  '/healthy': 'healthy',
  '/flaky': 'flaky',
  '/chain': 'chain',
  '/leaky': 'leaky',
  '/db': 'postgres',
  '/cache': 'redis',
};

/** Client timeouts in the service; the load's deadline is far beyond what they allow. */
const TIMEOUTS = { httpMs: 1_000, dbMs: 1_000, routeDeadlineMs: 3_000 };
const DEADLINE_MS = 10_000;
/** A of the cascade pair waits this long for B: a generous timeout is how a cascade starts. */
const CHAIN_TIMEOUT_MS = 3_000;

export interface RunOptions {
  profile: Profile;
  seed: number;
  /** Progress lines for people (the long run). */
  log?: (line: string) => void;
}

export async function runChaos({ profile, seed, log = () => undefined }: RunOptions): Promise<ChaosRun> {
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run \`npm run build\` first (the chaos service uses the built package)`);
  const closers: Array<() => Promise<unknown> | unknown> = [];
  try {
    const healthy = await Downstream.start('healthy');
    const flaky = await Downstream.start('flaky');
    const leaky = await Downstream.start('leaky');
    const chainB = await Downstream.start('chain-b');
    const chainA = await Downstream.start('chain-a', relayTo(chainB, CHAIN_TIMEOUT_MS));
    closers.push(...[healthy, flaky, leaky, chainB, chainA].map((d) => () => d.close()));
    const pgProxy = await FaultProxy.start({ upstreamPort: 5432 });
    const redisProxy = await FaultProxy.start({ upstreamPort: 6379 });
    closers.push(() => pgProxy.close(), () => redisProxy.close());

    const origins: Record<string, Target | 'healthy'> = {
      [healthy.origin]: 'healthy',
      [flaky.origin]: 'flaky',
      [leaky.origin]: 'leaky',
      [chainA.origin]: 'chain',
    };
    const targetOf = (component: string): Target | 'healthy' | undefined => {
      if (component === 'service') return 'service';
      if (component.startsWith('GET ')) return ROUTES[component.slice(4)];
      if (origins[component]) return origins[component];
      if (component.startsWith(`postgresql://127.0.0.1:${pgProxy.port}/`)) return 'postgres';
      if (component.startsWith(`redis://127.0.0.1:${redisProxy.port}/`)) return 'redis';
      return undefined;
    };

    const { service, ready } = await ServiceProcess.start({
      targets: {
        healthy: healthy.origin,
        flaky: flaky.origin,
        leaky: leaky.origin,
        chain: chainA.origin,
        postgres: { host: '127.0.0.1', port: pgProxy.port, database: 'test', user: 'postgres' },
        redis: { host: '127.0.0.1', port: redisProxy.port, db: 0 },
      },
      timeouts: TIMEOUTS,
      maxInFlight: 200,
      snapshotEveryMs: 250,
    });
    closers.push(() => service.kill());
    log(`service up on port ${ready.port} (instrumentations: ${ready.instrumentations.join(', ')})`);
    await service.guard(warmUp(`http://127.0.0.1:${ready.port}`));

    const faults = makeSchedule(profile, seed);
    const injector = new FaultInjector(
      { flaky, leaky, chainB, postgres: pgProxy, redis: redisProxy, cpuSpike: (durationMs) => service.cpuSpike(durationMs) },
      seed,
    );
    closers.push(() => injector.close());
    const load = new LoadGenerator({ origin: `http://127.0.0.1:${ready.port}`, routes: Object.keys(ROUTES), rpsPerRoute: profile.rpsPerRoute, seed, deadlineMs: DEADLINE_MS });
    const lengthMs = runLengthMs(faults, profile);
    const lag = watchLag();
    closers.push(() => lag.stop());
    const startedAt = Date.now();
    load.start();
    injector.schedule(faults, startedAt);
    log(`load: ${profile.rpsPerRoute} rps on each of ${Object.keys(ROUTES).length} routes for ${(lengthMs / 1000).toFixed(0)} s; ${faults.length} faults (seed ${seed})`);
    await service.guard(progress(lengthMs, startedAt, load, log));
    await service.guard(load.stop());
    const endedAt = Date.now();
    await injector.close();
    const stats = await service.stop();
    if (!stats) log('the service did not report its counts when stopped');

    return {
      profile,
      seed,
      startedAt,
      endedAt,
      faults: injector.faults,
      requests: load.records,
      sent: load.sentCount,
      health: service.all('health'),
      breakers: service.all('breaker'),
      recoveries: service.all('recovery'),
      snapshots: service.all('snapshot'),
      service: stats,
      instrumentations: ready.instrumentations,
      targetOf,
      healthyPerSecond: healthy.perSecond,
      healthyOrigin: healthy.origin,
      deadlineMs: DEADLINE_MS,
      harnessStalls: lag.stalls,
    };
  } finally {
    for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => undefined);
  }
}

/** A few calls on every route before the load, as a readiness probe would: the service's code is hot and its pools open. */
async function warmUp(origin: string): Promise<void> {
  const get = (route: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = http.get(`${origin}${route}`, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.setTimeout(5_000, () => req.destroy(new Error(`warm-up: ${route} did not answer in 5 s`)));
      req.on('error', reject);
    });
  for (let i = 0; i < 5; i++) {
    const statuses = await Promise.all(Object.keys(ROUTES).map(get));
    if (statuses.some((s) => s !== 200)) throw new Error(`warm-up: the service answered ${statuses.join(', ')} with nothing under fault`);
  }
}

/**
 * This process's own stalls (event loop late by more than 100 ms): while it stalls, the load, the
 * downstreams and the proxies stall with it, and what the service sees is the machine, not a fault.
 */
function watchLag(): { stalls: Array<[t: number, lateMs: number]>; stop(): void } {
  const stalls: Array<[number, number]> = [];
  const every = 50;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const late = now - last - every;
    if (late > 100) stalls.push([Date.now(), Math.round(late)]);
    last = now;
  }, every);
  timer.unref();
  return { stalls, stop: () => clearInterval(timer) };
}

/** Waits out the run, with a line per 10 s for people. */
async function progress(lengthMs: number, startedAt: number, load: LoadGenerator, log: (line: string) => void): Promise<void> {
  while (Date.now() - startedAt < lengthMs) {
    const left = lengthMs - (Date.now() - startedAt);
    await new Promise((r) => setTimeout(r, Math.min(10_000, left)));
    log(`  ${((Date.now() - startedAt) / 1000).toFixed(0)} s: ${load.sentCount} requests sent, ${load.records.length} done`);
  }
}
