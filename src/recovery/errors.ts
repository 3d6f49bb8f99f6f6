/** The `code` of a {@link DependencyCycleError}. */
export const DEPENDENCY_CYCLE_CODE = 'ERECOVERYCYCLE';
/** The `code` of a {@link DuplicateComponentError}. */
export const DUPLICATE_COMPONENT_CODE = 'ERECOVERYDUPLICATE';
/** The `code` of a {@link RecoveryCancelledError}. */
export const RECOVERY_CANCELLED_CODE = 'ERECOVERYCANCELLED';

/** `register()` refused a component whose `dependsOn` would close a cycle: no order could satisfy it. */
export class DependencyCycleError extends Error {
  readonly code = DEPENDENCY_CYCLE_CODE;
  override readonly name = 'DependencyCycleError';

  constructor(
    /** The cycle, first component repeated at the end: `['a', 'b', 'a']`. */
    readonly cycle: readonly string[],
  ) {
    super(`recovery dependency cycle: ${cycle.join(' -> ')}; component "${cycle[0]}" was not registered`);
  }
}

/** `register()` refused a second component of the same name. */
export class DuplicateComponentError extends Error {
  readonly code = DUPLICATE_COMPONENT_CODE;
  override readonly name = 'DuplicateComponentError';

  constructor(readonly component: string) {
    super(`a recovery component named "${component}" is registered already: dispose of it first`);
  }
}

/** The reason the signal of a cancelled action is aborted with (the manager stopped, or the component was unregistered). */
export class RecoveryCancelledError extends Error {
  readonly code = RECOVERY_CANCELLED_CODE;
  override readonly name = 'RecoveryCancelledError';

  constructor(readonly reason: 'stopped' | 'unregistered') {
    super(reason === 'stopped' ? 'recovery cancelled: the recovery manager stopped' : 'recovery cancelled: the component was unregistered');
  }
}

/** The `code` of a {@link RecoveryTimeoutError}. */
export const RECOVERY_TIMEOUT_CODE = 'ERECOVERYTIMEOUT';

/** The reason an action's signal is aborted with when it ran past the action timeout. */
export class RecoveryTimeoutError extends Error {
  readonly code = RECOVERY_TIMEOUT_CODE;
  override readonly name = 'RecoveryTimeoutError';

  constructor(readonly timeoutMs: number) {
    super(`recovery action timed out after ${timeoutMs} ms`);
  }
}
