import type { Disposer } from '../disposer.js';
import type { OutcomeKind, RecoveryEvents, RecoveryManager, RecoveryStrategy } from '../recovery/index.js';
import { redactUrls } from './redact.js';
import type { RecoveryTraces } from './RecoveryTraces.js';

/** One attempt of a recovery, as the status page shows it. */
export interface RecoveryAttemptView {
  readonly strategy: RecoveryStrategy;
  readonly success: boolean;
  readonly rolledBack: boolean;
  readonly durationMs: number;
  readonly error?: string;
}

/** One recovery in the page's timeline. */
export interface RecoveryView {
  /** Increases by one per recovery, per server. */
  readonly id: number;
  readonly component: string;
  readonly failureType: string;
  /** What set it off: `health`, `request` or `dependency`. */
  readonly trigger: string;
  /** The status that set it off, e.g. `failed: cache connection lost`. */
  readonly cause: string;
  /** `running` until it ends. */
  outcome: OutcomeKind | 'running';
  detail?: string;
  readonly attempts: RecoveryAttemptView[];
  /** When the failure was detected and when the recovery started, epoch ms. */
  readonly detectedAt: number;
  readonly startedAt: number;
  /** From start to end, ms; absent while running. */
  durationMs?: number;
  /** Its `selfheal.recovery` trace, when there is a tracer provider. */
  readonly traceId?: string;
  readonly sampled?: boolean;
}

/**
 * The last recoveries, newest last, from the recovery manager's events: a bounded ring the
 * status page shows as a timeline. `onUpdate` hears of every recovery that started, made an
 * attempt or ended.
 */
export class RecoveryLog {
  private readonly entries: RecoveryView[] = [];
  private readonly running = new Map<string, RecoveryView>();
  private readonly subscriptions: Disposer[];
  private nextId = 1;

  constructor(
    recovery: Pick<RecoveryManager, 'on'>,
    private readonly size: number,
    private readonly onUpdate: (view: RecoveryView) => void,
    private readonly traces?: Pick<RecoveryTraces, 'get'>,
  ) {
    this.subscriptions = [
      recovery.on('recovery-started', (e) => this.started(e)),
      recovery.on('attempt-finished', (e) => this.attempted(e)),
      recovery.on('recovery-completed', (e) => this.completed(e)),
    ];
  }

  /** Newest first. */
  list(): RecoveryView[] {
    return [...this.entries].reverse();
  }

  close(): void {
    for (const d of this.subscriptions) d();
  }

  private started(e: RecoveryEvents['recovery-started']): void {
    const s = e.trigger.status;
    const trace = this.traces?.get(e.component);
    const view: RecoveryView = {
      id: this.nextId++,
      component: e.component,
      failureType: e.failureType,
      trigger: e.trigger.source,
      cause: s.kind === 'healthy' ? 'healthy' : `${s.kind}: ${redactUrls(s.reason)}`,
      outcome: 'running',
      attempts: [],
      detectedAt: e.trigger.detectedAt,
      startedAt: e.timestamp,
      ...(trace ? { traceId: trace.traceId, sampled: trace.sampled } : {}),
    };
    this.running.set(e.component, view);
    this.entries.push(view);
    if (this.entries.length > this.size) this.entries.shift();
    this.onUpdate(view);
  }

  private attempted(e: RecoveryEvents['attempt-finished']): void {
    const view = this.running.get(e.component);
    if (!view) return;
    const r = e.result;
    view.attempts.push({
      strategy: e.strategy,
      success: r.success,
      rolledBack: r.rolledBack,
      durationMs: r.durationMs,
      ...(r.error === undefined ? {} : { error: redactUrls(r.error) }),
    });
    this.onUpdate(view);
  }

  private completed(e: RecoveryEvents['recovery-completed']): void {
    const view = this.running.get(e.component);
    if (!view) return;
    this.running.delete(e.component);
    view.outcome = e.outcome.outcome;
    view.durationMs = e.outcome.durationMs;
    if (e.outcome.detail !== undefined) view.detail = redactUrls(e.outcome.detail);
    this.onUpdate(view);
  }
}
