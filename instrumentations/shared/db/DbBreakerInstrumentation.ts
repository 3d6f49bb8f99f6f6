import { createRequire } from 'node:module';
import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  InstrumentationNodeModuleFile,
  type InstrumentationModuleDefinition,
} from '@opentelemetry/instrumentation';
import { BreakerInstrumentation } from '../BreakerInstrumentation.js';
import { DbPolicy } from './DbPolicy.js';
import type { DbBreakerInstrumentationConfig, DbFailureRule, DbSystem } from './types.js';

/** One file of a client package whose exports an instrumentation patches. */
export interface PatchPoint {
  /** The package, e.g. `pg`. */
  module: string;
  /** The file inside it, e.g. `lib/client.js`. */
  file: string;
  /**
   * `file` is the package's main entry: it is hooked as the package itself, since require hooks
   * report a package's main file under the package name, never under `module/file`.
   */
  main?: boolean;
  /** Supported versions (semver ranges). */
  versions: string[];
  /**
   * Patch once more on the next tick, after the require that loaded the file is over: an
   * official instrumentation hooked on the package's main module wraps the same methods after
   * us, and a refused call must not reach its wrapper (it would end the call's span as a plain
   * failure, which health would count against the server). `wrapMethod` goes back on top.
   */
  restack?: boolean;
  /** Wraps what the file exports (idempotent: see `wrapMethod`). */
  patch(exports: unknown): void;
}

const localRequire = createRequire(import.meta.url);

/**
 * Base of the database breaker instrumentations. It hooks the client's files when they are
 * loaded (require and import, through the OTel instrumentation hooks) and also patches copies
 * already loaded when it is enabled, so clients created before the SDK started are guarded too.
 * Patches are plain prototype wrappers that route to the active instrumentation; disabling
 * makes them pass-throughs.
 */
export abstract class DbBreakerInstrumentation extends BreakerInstrumentation<DbBreakerInstrumentationConfig> {
  protected readonly policy: DbPolicy;

  constructor(name: string, system: DbSystem, rule: DbFailureRule, config: DbBreakerInstrumentationConfig) {
    super(name, config);
    this.policy = new DbPolicy(system, config, rule);
  }

  /** The files to patch; called from the base constructor, so it must not read instance fields. */
  protected abstract patchPoints(): PatchPoint[];

  /** Makes this instrumentation the one the wrappers route to (or none, with `false`). */
  protected abstract activate(on: boolean): void;

  protected override init(): InstrumentationModuleDefinition[] {
    return this.patchPoints().map((p) => {
      const patch = (exports: unknown) => {
        this.safePatch(p, exports);
        return exports;
      };
      // Wrappers stay on unpatch: they pass through while no instrumentation is active.
      const unpatch = () => undefined;
      if (p.main) return new InstrumentationNodeModuleDefinition(p.module, p.versions, patch, unpatch);
      return new InstrumentationNodeModuleDefinition(p.module, p.versions, undefined, undefined, [
        new InstrumentationNodeModuleFile(`${p.module}/${p.file}`, p.versions, patch, unpatch),
      ]);
    });
  }

  protected install(): void {
    InstrumentationBase.prototype.enable.call(this);
    for (const p of this.patchPoints()) {
      for (const exports of loadedCopies(p)) this.safePatch(p, exports);
    }
    this.activate(true);
  }

  protected uninstall(): void {
    this.activate(false);
    InstrumentationBase.prototype.disable.call(this);
  }

  private safePatch(p: PatchPoint, exports: unknown, again = p.restack === true): void {
    try {
      p.patch(exports);
      this.activate(this.enabled);
    } catch (err) {
      this._diag.error(`otel-self-heal: could not guard ${p.module}; its calls go through unguarded`, err);
    }
    if (again) process.nextTick(() => this.enabled && this.safePatch(p, exports, false));
  }
}

/** Exports of the patch point's file in every copy of the package already loaded (CJS cache). */
function loadedCopies(p: PatchPoint): unknown[] {
  const suffix = `/node_modules/${p.module}/${p.file}`;
  const out: unknown[] = [];
  for (const [file, mod] of Object.entries(localRequire.cache)) {
    if (mod?.loaded && file.replaceAll('\\', '/').endsWith(suffix)) out.push(mod.exports);
  }
  return out;
}
