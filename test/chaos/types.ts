/** What the chaos service (service.mjs) reports over IPC, and what one run collected. */
import type { RequestRecord } from './load.js';
import type { Fault, Profile, Target } from './schedule.js';

export type Level = 'healthy' | 'degraded' | 'critical' | 'failed';
export type BreakerState = 'closed' | 'open' | 'half-open';

export interface HealthEvent {
  type: 'health';
  t: number;
  component: string;
  from: Level;
  to: Level;
  reason?: string;
}

export interface BreakerEvent {
  type: 'breaker';
  t: number;
  name: string;
  from: BreakerState;
  to: BreakerState;
  reason: string;
}

export interface RecoveryEvent {
  type: 'recovery';
  event: 'started' | 'attempt' | 'completed';
  t: number;
  component: string;
  failureType?: string;
  strategy?: string;
  success?: boolean;
  error?: string;
  outcome?: 'recovered' | 'escalated' | 'manual-intervention' | 'skipped' | 'cancelled';
  reason?: string;
  detail?: string;
  attempts?: number;
  durationMs?: number;
  detectedAt?: number;
}

/** Every component's health and every breaker's state at one moment. */
export interface Snapshot {
  type: 'snapshot';
  t: number;
  health: Array<[name: string, level: Level]>;
  breakers: Array<[name: string, state: BreakerState]>;
  /** Since the last snapshot: the share of the time the service's event loop was busy, and the CPU it got (1 = a core). */
  busy: number;
  cpu: number;
}

/** The service's own counts, at stop. */
export interface ServiceStats {
  outcomes: Record<string, Record<string, number>>;
  errors: Record<string, number>;
  counters: { poolErrors: number; redisErrors: number; shed: number; deadlines: number; inFlightPeak: number };
  /** Over the service's life: CPU time per wall time (1 = a core), and the event loop's busy share. */
  usage: { cpuShare: number; eventLoopBusy: number };
  /** Requests whose caller hung up before the answer (first 50). */
  abandoned: Array<{ route: string; afterMs: number; inFlight: number }>;
}

export type ServiceMessage =
  | HealthEvent
  | BreakerEvent
  | RecoveryEvent
  | Snapshot
  | { type: 'ready'; port: number; instrumentations: string[] }
  | { type: 'cpu-done'; t: number }
  | { type: 'stopped'; stats: ServiceStats };

/** A scheduled fault with the epoch times it really began and ended. */
export interface AppliedFault extends Fault {
  startedAt: number;
  endedAt: number;
}

/** Everything one run collected, for the report. */
export interface ChaosRun {
  profile: Profile;
  seed: number;
  /** Epoch ms at which the load started, and its end. */
  startedAt: number;
  endedAt: number;
  faults: AppliedFault[];
  requests: RequestRecord[];
  sent: number;
  health: HealthEvent[];
  breakers: BreakerEvent[];
  recoveries: RecoveryEvent[];
  snapshots: Snapshot[];
  service: ServiceStats | undefined;
  /** The plugin's instrumentations in the service. */
  instrumentations: string[];
  /** Which target a component (breaker or health name; a route: what it depends on) belongs to; undefined: none of ours. */
  targetOf: (component: string) => Target | 'healthy' | undefined;
  /** Requests the healthy downstream received, per epoch second. */
  healthyPerSecond: Map<number, number>;
  /** The healthy downstream's name. */
  healthyOrigin: string;
  /** A request with no answer by then counted as hanging, ms. */
  deadlineMs: number;
  /** When this process's event loop ran late by more than 100 ms: [epoch ms, how late]. */
  harnessStalls: Array<[t: number, lateMs: number]>;
}
