import { z } from 'zod';
import { parseOptions } from '../config/index.js';
import { DependencyGraph } from './DependencyGraph.js';
import { DuplicateComponentError } from './errors.js';
import type { SelfHealingComponent } from './types.js';

const fn = z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', { error: 'must be a function' });
const name = z.string({ error: 'must be a component name' }).min(1, { error: 'must be a component name' });
const componentSchema = z.object({
  name: z.string({ error: 'must be a non-empty string' }).min(1, { error: 'must be a non-empty string' }),
  dependsOn: z.array(name, { error: 'must be a list of component names' }).optional(),
  restart: fn.optional(),
  reconfigure: fn.optional(),
  fallback: fn.optional(),
  scale: fn.optional(),
  checkHealth: fn.optional(),
});

/** The registered components by name, and who depends on whom among them. */
export class ComponentRegistry {
  private readonly components = new Map<string, SelfHealingComponent>();
  private readonly graph = new DependencyGraph();

  /**
   * Throws a ConfigValidationError for a malformed component, a DuplicateComponentError for a
   * name in use, a DependencyCycleError when `dependsOn` closes a cycle; nothing changes then.
   */
  add(component: SelfHealingComponent): void {
    const given = typeof component?.name === 'string' && component.name ? component.name : undefined;
    parseOptions(componentSchema, component, given ? `components[${JSON.stringify(given)}]` : 'component');
    if (this.components.has(component.name)) throw new DuplicateComponentError(component.name);
    this.graph.add(component.name, component.dependsOn ?? []);
    this.components.set(component.name, component);
  }

  /** Removes `component` if it is the one registered under its name (not a later one of the same name). */
  remove(component: SelfHealingComponent): boolean {
    if (this.components.get(component.name) !== component) return false;
    this.components.delete(component.name);
    this.graph.remove(component.name);
    return true;
  }

  get(name: string): SelfHealingComponent | undefined {
    return this.components.get(name);
  }

  has(name: string): boolean {
    return this.components.has(name);
  }

  names(): IterableIterator<string> {
    return this.components.keys();
  }

  /** The registered components `name` depends on (declared ones not registered are left out). */
  dependenciesOf(name: string): string[] {
    return this.graph.dependenciesOf(name).filter((d) => this.components.has(d));
  }
}
