/** The report of one chaos run (see report.ts), as printed and written to JSON. */
import type { Outcome } from './load.js';
import type { FaultKind, Target } from './schedule.js';
import type { AppliedFault, ChaosRun } from './types.js';

export interface FaultResult {
  id: number;
  kind: FaultKind;
  target: Target;
  /** From the start of the load, s. */
  at: number;
  durationMs: number;
  params: AppliedFault['params'];
  /** The plugin's components for the target (downstream, or the service's own). */
  components: string[];
  detected: boolean;
  detectMs: number | undefined;
  detectedBy: string | undefined;
  /** A breaker of one of its components opened while it was on (or before its components were restored). */
  breakerOpened: boolean;
  restored: boolean;
  /** The machine starved the service while its components were to be restored: restoration is not judged. */
  restoreExcused: boolean;
  /** From the end of the fault until every component was healthy with a closed breaker, ms. */
  restoreMs: number | undefined;
  recoveriesStarted: number;
  recovered: number;
}

export interface Bar {
  name: string;
  value: string;
  bar: string;
  pass: boolean;
  /** Judged only on a machine that gave the service its CPU (see `environment.overloaded`). */
  quietOnly: boolean;
}

export interface TrafficStats {
  requests: number;
  /** Share answered by the downstream itself. */
  answeredShare: number;
  p95Ms: number;
  /** Requests the healthy downstream received per second. */
  downstreamRps: number;
}

export interface ChaosReport {
  profile: string;
  seed: number;
  durationS: number;
  instrumentations: string[];
  /** Every component the plugin reported (health or breaker), with the target it belongs to. */
  components: Array<{ name: string; target: string | undefined }>;
  requests: {
    sent: number;
    accounted: number;
    byOutcome: Record<Outcome, number>;
    byRoute: Record<string, Record<Outcome, number>>;
    /** Hanging requests in flight while the machine starved the service (not judged). */
    hangingExcused: number;
    /** Requests that got no answer (lost or hanging): route, s into the load, outcome, detail, whether excused (first 50). */
    unanswered: Array<{ route: string; at: number; outcome: Outcome; detail: string; excused: boolean }>;
  };
  faults: FaultResult[];
  detection: { faults: number; detected: number; medianMs: number | undefined; maxMs: number | undefined };
  recoveries: {
    started: number;
    finished: number;
    recovered: number;
    escalated: number;
    manualIntervention: number;
    cancelled: number;
    successRate: number;
    attempts: number;
    attemptSuccesses: number;
    /** Recoveries verified while a fault on the component was still on (a check that passed too soon). */
    recoveredWhileFaulty: number;
    byComponent: Record<string, { started: number; recovered: number; other: number }>;
  };
  falsePositives: {
    /** Component-time judged while the machine starved the service (or within a health window after): left out. */
    excusedComponentS: number;
    eligibleComponentS: number;
    falseComponentS: number;
    rate: number;
    /** Each stretch of a component judged non-healthy outside its fault windows: from (s into the load), how long (s), worst level. */
    episodes: Array<{ component: string; at: number; seconds: number; worst: string }>;
  };
  containment: { route: string; downstream: string; baseline: TrafficStats; duringFaults: TrafficStats; duringCascade: TrafficStats };
  service: ChaosRun['service'];
  /**
   * How much the machine got in the way: stalls of the harness (its event loop late by over
   * 100 ms) and of the service (its 250 ms snapshots late by over 500 ms) outside CPU spikes.
   */
  environment: {
    harnessStalls: number;
    harnessWorstMs: number;
    serviceStalls: number;
    serviceWorstMs: number;
    /** Share of the time the service's event loop was busy that it spent waiting for a CPU (0: it always had one). */
    serviceStarvation: number;
    /** Seconds of the starved stretches: the service waited for a CPU more than half of each second (see starvation.ts). */
    starvedSeconds: number;
    /** Share of the run whose judgments may rest on starvation. */
    starvedCoverage: number;
    /** The starved stretches: s into the load, how long (s). */
    starved: Array<{ at: number; seconds: number }>;
    /**
     * Starvation covers over half the run: too little is left to judge hangs, false positives,
     * restoration times and latency containment, which are then reported but not judged.
     */
    overloaded: boolean;
  };
  bars: Bar[];
  /** Every health change, breaker transition and recovery event, s from the start of the load. */
  timeline: Array<{ at: number; what: string }>;
}
