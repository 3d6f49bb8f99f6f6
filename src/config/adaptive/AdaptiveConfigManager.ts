import { diag } from '@opentelemetry/api';
import { z } from 'zod';
import { systemClock, type Clock } from '../../clock.js';
import { Listeners, disposer, type Disposer } from '../../disposer.js';
import { ConfigValidationError, parseOptions } from '../validate.js';
import { ConfigFile, type SavedState } from './ConfigFile.js';
import { ConfigHistory } from './ConfigHistory.js';
import { HealthVerifier } from './HealthVerifier.js';
import { changeEvent, describeChange } from './changeEvent.js';
import { ParameterRules, type Problem } from './ParameterRules.js';
import { changedKeys, own, planChanges, type Plan } from './planChange.js';
import type {
  AdaptiveConfig,
  AdaptiveConfigOptions,
  ApplyOptions,
  ConfigChange,
  ConfigChangeEvent,
  ConfigCheck,
  ConfigHistoryEntry,
  ConfigParameters,
  ConfigSignal,
  ConfigValue,
  SignalOutcome,
} from './types.js';

const optionsSchema = z.strictObject({
  initial: z.record(z.string(), z.unknown(), { error: 'must be an object of parameter values' }),
  constraints: z.record(z.string(), z.unknown(), { error: 'must be an object of one zod schema per parameter' }),
  persistPath: z.string().min(1, { error: 'must be a file path' }).optional(),
  historySize: z
    .number()
    .int({ error: 'must be a whole number of versions' })
    .min(2, { error: 'must be at least 2 (the current version and one to roll back to)' })
    .max(100_000, { error: 'must be at most 100000' })
    .optional(),
  clock: z.custom<Clock>((c) => typeof (c as Clock | undefined)?.now === 'function', { error: 'must be an object with a now() method' }).optional(),
});

function freeze<T extends object>(value: T): T {
  return Object.freeze(value);
}

/**
 * Runtime configuration that can change safely (spec 2.5). Every change is validated first
 * (each value against its parameter's zod schema, then every {@link ConfigCheck} on the whole
 * result) and swapped in at once, so a refused change leaves the running configuration as it was.
 * Every version is kept in a bounded history with its fitness and can be rolled back; a change
 * applied with `verify` is rolled back by itself when the health score falls within its window.
 * Subscribers hear of every version with the changed keys, sensitive values redacted.
 */
export class AdaptiveConfigManager {
  private readonly rules: ParameterRules;
  private readonly defaults: ConfigParameters;
  private readonly clock: Clock;
  private readonly log: ConfigHistory;
  private readonly file: ConfigFile | undefined;
  private readonly listeners = new Listeners<ConfigChangeEvent>((err) => diag.error('otel-self-heal: a configuration listener threw', err));
  private checks: ConfigCheck[] = [];
  private readonly verifier = new HealthVerifier({
    isCurrent: (version) => this.current.version === version,
    record: (version, verification) => this.update(version, (e) => freeze({ ...e, verification: freeze(verification) })),
    // The version before is kept (historySize >= 2) while `version` is still the current one.
    rollBack: (version, reason) => this.rollback(this.log.before(version)!.version, reason),
  });
  private readonly queued: ConfigChangeEvent[] = [];
  private emitting = false;
  private current: ConfigHistoryEntry;
  private running = false;
  private loaded = false;

  constructor(options: AdaptiveConfigOptions) {
    const o = parseOptions(optionsSchema, options, 'adaptiveConfig');
    this.rules = new ParameterRules(o.constraints as AdaptiveConfigOptions['constraints']);
    const problems: Problem[] = [];
    const initial: Record<string, ConfigValue> = {};
    for (const [key, value] of Object.entries(o.initial)) {
      const checked = this.rules.check(key, value, problems, 'adaptiveConfig.initial');
      if (checked !== undefined) initial[key] = checked;
    }
    if (problems.length) throw new ConfigValidationError(problems);
    this.defaults = freeze(initial);
    this.clock = o.clock ?? systemClock;
    this.log = new ConfigHistory(o.historySize ?? 100);
    this.file = o.persistPath === undefined ? undefined : new ConfigFile(o.persistPath);
    this.current = freeze({
      parameters: this.defaults,
      timestamp: this.clock.now(),
      version: 1,
      source: 'static',
      cause: 'initial',
      changedKeys: freeze(Object.keys(this.defaults)),
    });
    this.log.push(this.current);
  }

  /** The configuration in force (spec `current_config`); frozen, cheap to call. */
  currentConfig(): AdaptiveConfig {
    return this.current;
  }

  /** The current value of one parameter, or undefined when it is not set. */
  get(key: string): ConfigValue | undefined {
    return own(this.current.parameters, key);
  }

  /** The initial values (what `reset-to-default` restores). */
  get defaultParameters(): ConfigParameters {
    return this.defaults;
  }

  /** Whether the parameter is sensitive (its value is never reported). */
  isSensitive(key: string): boolean {
    return this.rules.isSensitive(key);
  }

  /**
   * Validates and applies one change, or several as one version (all or nothing), and returns the
   * new configuration. A change that alters no value returns the current one (no new version; to
   * score the current version, use {@link recordEffectiveness}). Throws a
   * {@link ConfigValidationError} naming each bad field; the configuration is then untouched.
   */
  applyChange(change: ConfigChange | readonly ConfigChange[], options: ApplyOptions = {}): AdaptiveConfig {
    const plan = planChanges(Array.isArray(change) ? change : [change], this.current.parameters, this.defaults, this.rules);
    const keys = changedKeys(this.current.parameters, plan.parameters);
    if (keys.length === 0) return this.current;
    this.runChecks(plan.parameters);
    const verification = options.verify === undefined ? undefined : HealthVerifier.prepare(options.verify);
    const next = this.commit(plan, keys, 'applied');
    if (verification !== undefined) this.verifier.watch(next.version, verification.before, verification.verify);
    return next;
  }

  /**
   * Restores the parameters and source of an earlier version (default: the one before the current)
   * as a new version. The old values are validated again; throws a {@link ConfigValidationError}
   * when the version is not in the history or its values no longer fit.
   */
  rollback(toVersion?: number, reason?: string): AdaptiveConfig {
    const target = toVersion === undefined ? this.log.before(this.current.version) : this.log.find(toVersion);
    if (target === undefined || target === this.current) {
      const oldest = this.log.list()[0]!.version;
      const message =
        toVersion === undefined
          ? 'rollback: there is no earlier version in the history to roll back to'
          : target === this.current
            ? `rollback.version ${toVersion} is the current version`
            : `rollback.version ${toVersion} is not in the history (kept: versions ${oldest} to ${this.current.version})`;
      throw new ConfigValidationError([{ path: 'rollback.version', message }]);
    }
    const complete = { kind: 'apply-complete', config: target } as const;
    const plan = planChanges([complete], this.current.parameters, this.defaults, this.rules);
    this.runChecks(plan.parameters);
    plan.cause = 'rollback';
    const keys = changedKeys(this.current.parameters, plan.parameters);
    return this.commit(plan, keys, 'rolled-back', reason ?? `rolled back to version ${target.version}`);
  }

  /** Records how well a version did (higher is better), e.g. for the optimizer to learn from. */
  recordEffectiveness(version: number, score: number): void {
    if (!Number.isFinite(score)) {
      throw new ConfigValidationError([{ path: 'fitnessScore', message: `fitnessScore must be a finite number, got ${score}` }]);
    }
    const entry = this.update(version, (e) => freeze({ ...e, fitnessScore: score }));
    if (entry === undefined) {
      throw new ConfigValidationError([{ path: 'version', message: `version ${version} is not in the history` }]);
    }
  }

  /** The kept versions, oldest first; the last is the current one. Values are in clear. */
  history(): readonly ConfigHistoryEntry[] {
    return this.log.list();
  }

  /** Called after every new version, with the changed keys and redacted values. */
  onChange(listener: (event: ConfigChangeEvent) => void): Disposer {
    return this.listeners.add(listener);
  }

  /** Adds a check of the whole configuration, run before every change; it throws to refuse it. */
  addCheck(check: ConfigCheck): Disposer {
    this.checks = [...this.checks, check];
    return disposer(() => {
      this.checks = this.checks.filter((c) => c !== check);
    });
  }

  /** Loads the saved state when there is a `persistPath` (changes are saved from then on). */
  async start(): Promise<void> {
    if (this.running) return;
    if (this.file !== undefined && !this.loaded) this.loadSaved();
    this.running = true;
  }

  /** Cancels pending verifications and waits for the last save. */
  async stop(): Promise<void> {
    this.verifier.cancelAll();
    this.running = false;
    await this.flush().catch(() => undefined); // already reported by persist()
  }

  /** Resolves when the last change is on disk; rejects if that save failed. */
  flush(): Promise<void> {
    return this.file?.idle() ?? Promise.resolve();
  }

  /** Handles a message for the running manager (spec `signal_sender`); never rejects. */
  async signal(signal: ConfigSignal): Promise<SignalOutcome> {
    await Promise.resolve(); // handled off the sender's turn, like a message on a channel
    if (!this.running) return { ok: false, error: new Error('otel-self-heal: the configuration manager is not running (call start() first)') };
    try {
      switch (signal.kind) {
        case 'apply':
          return { ok: true, config: this.applyChange(signal.change, signal.verify ? { verify: signal.verify } : {}) };
        case 'rollback':
          return { ok: true, config: this.rollback(signal.version) };
        case 'persist':
          await this.requireFile().save(() => this.snapshot());
          return { ok: true, config: this.current };
        case 'reload':
          this.requireFile();
          await this.flush().catch(() => undefined);
          this.loadSaved();
          return { ok: true, config: this.current };
        default: {
          const kind = (signal as { kind?: unknown }).kind;
          const message = `signal.kind must be 'apply', 'rollback', 'persist' or 'reload', got ${JSON.stringify(kind)}`;
          return { ok: false, error: new ConfigValidationError([{ path: 'signal.kind', message }]) };
        }
      }
    } catch (error) {
      return { ok: false, error };
    }
  }

  private requireFile(): ConfigFile {
    if (this.file === undefined) throw new Error('otel-self-heal: the configuration manager has no persistPath');
    return this.file;
  }

  private runChecks(next: ConfigParameters): void {
    const problems: Problem[] = [];
    for (const check of this.checks) {
      try {
        check(next, this.current.parameters);
      } catch (err) {
        if (err instanceof ConfigValidationError) problems.push(...err.problems);
        else problems.push({ path: 'config', message: `config check failed: ${err instanceof Error ? err.message : String(err)}` });
      }
    }
    if (problems.length) throw new ConfigValidationError(problems);
  }

  /** Swap, then report: a listener that throws cannot leave a half-applied configuration. */
  private commit(plan: Plan, keys: string[], type: ConfigChangeEvent['type'], reason?: string): ConfigHistoryEntry {
    const previous = this.current;
    const next = this.append(plan, keys);
    this.announce(type, previous, next, reason);
    return next;
  }

  /** Makes `plan` the current version and saves it (no notification). */
  private append(plan: Plan, keys: string[]): ConfigHistoryEntry {
    const previous = this.current;
    const next: ConfigHistoryEntry = freeze({
      parameters: freeze(plan.parameters),
      timestamp: this.clock.now(),
      version: previous.version + 1,
      ...(plan.fitnessScore === undefined ? {} : { fitnessScore: plan.fitnessScore }),
      source: plan.source,
      cause: plan.cause,
      changedKeys: freeze(keys),
    });
    this.current = next;
    this.log.push(next);
    this.persist();
    return next;
  }

  private announce(type: ConfigChangeEvent['type'], from: AdaptiveConfig, to: ConfigHistoryEntry, reason?: string): void {
    const event = changeEvent(type, from, to, this.rules, reason);
    diag.info(describeChange(event));
    // A listener that applies a change of its own must not make others hear the versions out of order.
    this.queued.push(event);
    if (this.emitting) return;
    this.emitting = true;
    try {
      for (let e = this.queued.shift(); e !== undefined; e = this.queued.shift()) this.listeners.emit(e);
    } finally {
      this.emitting = false;
    }
  }

  private update(version: number, fn: (e: ConfigHistoryEntry) => ConfigHistoryEntry): ConfigHistoryEntry | undefined {
    const entry = this.log.replace(version, fn);
    if (entry !== undefined && version === this.current.version) this.current = entry;
    if (entry !== undefined) this.persist();
    return entry;
  }

  private snapshot(): SavedState {
    return { version: this.current.version, current: this.current, history: [...this.log.list()] };
  }

  private persist(): void {
    if (this.file === undefined || !this.loaded) return;
    const path = this.file.path;
    this.file.save(() => this.snapshot()).catch((err: unknown) => diag.warn(`otel-self-heal: could not save the configuration to ${path}`, err));
  }

  /**
   * Adopts the saved state. Its values are validated again: a key no longer known is dropped and a
   * value that no longer fits goes back to its default, each with a warning, as a new version.
   */
  private loadSaved(): void {
    const file = this.file!;
    const firstLoad = !this.loaded;
    this.loaded = true;
    const result = file.load();
    if (result.kind !== 'loaded') return;
    const saved = result.state.current;
    const { parameters: params, problems } = this.rules.revalidate(saved.parameters, this.defaults);
    let repaired = problems.length > 0;
    for (const message of problems) diag.warn(`otel-self-heal: in the saved configuration ${result.file}: ${message}`);
    let parameters: ConfigParameters = params;
    try {
      this.runChecks(parameters);
    } catch (err) {
      diag.warn(`otel-self-heal: the saved configuration ${result.file} fails a check (${(err as Error).message}); using the initial configuration`);
      parameters = this.defaults;
      repaired = true;
    }
    const before = this.current;
    this.verifier.cancelAll(); // their versions are those of the state being replaced
    if (firstLoad && before.version > 1) {
      diag.warn(`otel-self-heal: changes applied before start() were replaced by the saved configuration ${result.file}`);
    }
    const frozenEntry = (e: ConfigHistoryEntry): ConfigHistoryEntry =>
      freeze({ ...e, parameters: freeze(e.parameters), changedKeys: freeze(e.changedKeys) });
    const history = result.state.history.filter((e) => e.version < saved.version).map(frozenEntry);
    history.push(frozenEntry(saved));
    this.log.reset(history);
    this.current = this.log.list().at(-1)!;
    if (repaired) {
      const plan: Plan = { parameters: { ...parameters }, source: saved.source, fitnessScore: undefined, cause: 'load' };
      this.append(plan, changedKeys(saved.parameters, parameters));
    } else if (result.fromBackup) {
      this.persist(); // puts a good copy back in place of the torn one
    }
    if (this.current.version !== before.version || changedKeys(before.parameters, this.current.parameters).length > 0) {
      this.announce('loaded', before, this.current);
    }
  }
}
