/**
 * The seeded fault schedule: which faults, on what, from when to when. The same seed and profile
 * give the same schedule on every run (the seed is in the report, to replay a run).
 */
import { rng } from '../support/random.js';

export type FaultKind = 'kill' | 'latency' | 'resets' | 'cpu-spike' | 'memory-leak' | 'cascade';

/**
 * What a fault hits. `flaky`, `leaky`: HTTP downstreams; `chain`: downstream A, which calls B
 * (the cascade starts at B); `postgres`, `redis`: the databases behind their fault proxies;
 * `service`: the service's own process.
 */
export type Target = 'flaky' | 'leaky' | 'chain' | 'postgres' | 'redis' | 'service';

export interface Fault {
  id: number;
  kind: FaultKind;
  target: Target;
  /** From the start of the load, ms. */
  startMs: number;
  endMs: number;
  /** latency: added delay (HTTP: per answer; proxies: per chunk each way); resets: share of requests reset; cascade: how B fails. */
  params: { latencyMs?: number; share?: number; mode?: 'hang' | 'error' };
}

/** Targets each kind of fault may hit. */
export const TARGETS: Readonly<Record<FaultKind, readonly Target[]>> = {
  kill: ['flaky', 'postgres', 'redis'],
  latency: ['flaky', 'postgres', 'redis'],
  'resets': ['flaky', 'postgres', 'redis'],
  'cpu-spike': ['service'],
  'memory-leak': ['leaky'],
  cascade: ['chain'],
};

export interface Profile {
  name: 'short' | 'long';
  /** Load before the first fault (the baseline), ms. */
  warmupMs: number;
  /** Load after the last fault ends (recoveries finish, components settle), ms. */
  tailMs: number;
  /** Requests per second to each route. */
  rpsPerRoute: number;
  /** `short`: one fault of each kind, the kill / latency / reset faults on different targets; `long`: this many, drawn at random. */
  faults: number;
  /** Duration range per kind, ms. */
  durationMs: Readonly<Record<FaultKind, readonly [number, number]>>;
  /** Time between the starts of consecutive faults, ms. */
  gapMs: readonly [number, number];
  /** Faults active at once, at most (a CPU spike is always alone). */
  maxConcurrent: number;
  /** Quiet time on a target between two faults on it, ms. */
  cooldownMs: number;
  /** A fault counts as detected when a target is judged non-healthy or its breaker opens within this, ms. */
  detectWithinMs: number;
  /** A target must be healthy with its breaker closed within this after its fault ends, ms. */
  restoreWithinMs: number;
}

export const PROFILES: Readonly<Record<Profile['name'], Profile>> = {
  short: {
    name: 'short',
    warmupMs: 5_000,
    tailMs: 15_000,
    rpsPerRoute: 10,
    faults: 6,
    durationMs: { kill: [3_000, 4_500], latency: [3_000, 4_500], 'resets': [3_000, 4_000], 'cpu-spike': [2_000, 3_000], 'memory-leak': [4_000, 5_000], cascade: [3_000, 4_500] },
    gapMs: [2_500, 4_000],
    maxConcurrent: 2,
    cooldownMs: 6_000,
    detectWithinMs: 5_000,
    restoreWithinMs: 15_000,
  },
  long: {
    name: 'long',
    warmupMs: 10_000,
    tailMs: 15_000,
    rpsPerRoute: 12,
    faults: 40,
    durationMs: { kill: [3_000, 15_000], latency: [3_000, 12_000], 'resets': [2_000, 10_000], 'cpu-spike': [1_500, 5_000], 'memory-leak': [4_000, 10_000], cascade: [3_000, 12_000] },
    gapMs: [3_000, 8_000],
    maxConcurrent: 3,
    cooldownMs: 8_000,
    detectWithinMs: 5_000,
    restoreWithinMs: 15_000,
  },
};

const KINDS: readonly FaultKind[] = ['kill', 'latency', 'resets', 'cpu-spike', 'memory-leak', 'cascade'];

/** The faults of one run, ordered by start. */
export function makeSchedule(profile: Profile, seed: number): Fault[] {
  const random = rng(seed);
  const between = (lo: number, hi: number): number => Math.round(lo + (hi - lo) * random());
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;

  let specs: Array<{ kind: FaultKind; target: Target }>;
  if (profile.name === 'short') {
    // Every kind once; kill, latency and resets each on a different one of flaky, postgres, redis.
    const shared = shuffle(['flaky', 'postgres', 'redis'] as Target[], random);
    specs = shuffle(
      [
        { kind: 'kill', target: shared[0]! },
        { kind: 'latency', target: shared[1]! },
        { kind: 'resets', target: shared[2]! },
        { kind: 'cpu-spike', target: 'service' },
        { kind: 'memory-leak', target: 'leaky' },
        { kind: 'cascade', target: 'chain' },
      ],
      random,
    );
  } else {
    specs = Array.from({ length: profile.faults }, () => {
      const kind = pick(KINDS);
      return { kind, target: pick(TARGETS[kind]) };
    });
  }

  const placed: Fault[] = [];
  let cursor = profile.warmupMs;
  for (const [id, spec] of specs.entries()) {
    const duration = between(...profile.durationMs[spec.kind]);
    let start = cursor;
    while (!fits(placed, spec, start, start + duration, profile)) start += 250;
    placed.push({ id, ...spec, startMs: start, endMs: start + duration, params: paramsOf(spec.kind, spec.target, between, pick) });
    cursor = start + between(...profile.gapMs);
  }
  return placed.sort((a, b) => a.startMs - b.startMs);
}

/** When the last fault ends, plus the tail: the length of the load. */
export function runLengthMs(faults: readonly Fault[], profile: Profile): number {
  return Math.max(profile.warmupMs, ...faults.map((f) => f.endMs)) + profile.tailMs;
}

function paramsOf(kind: FaultKind, target: Target, between: (lo: number, hi: number) => number, pick: <T>(l: readonly T[]) => T): Fault['params'] {
  switch (kind) {
    case 'latency':
      // Past the service's client timeout either way: HTTP per answer; the proxies delay each
      // chunk each way, so a query or command takes at least twice this.
      return { latencyMs: target === 'flaky' ? between(2_000, 3_000) : between(800, 1_400) };
    case 'resets':
      return { share: between(50, 90) / 100 };
    case 'cascade':
      return { mode: pick(['hang', 'error'] as const) };
    default:
      return {};
  }
}

function fits(placed: readonly Fault[], spec: { kind: FaultKind; target: Target }, start: number, end: number, p: Profile): boolean {
  const overlapping = placed.filter((f) => f.startMs < end && start < f.endMs);
  if (overlapping.length >= p.maxConcurrent) return false;
  for (const f of placed) {
    // A CPU spike slows everything: nothing else runs in it, nor right before or after it.
    const pad = f.kind === 'cpu-spike' || spec.kind === 'cpu-spike' ? 3_000 : f.target === spec.target ? p.cooldownMs : -1;
    if (pad >= 0 && f.startMs - pad < end && start < f.endMs + pad) return false;
  }
  return true;
}

function shuffle<T>(list: T[], random: () => number): T[] {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list;
}
