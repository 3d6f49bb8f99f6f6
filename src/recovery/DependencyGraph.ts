import { DependencyCycleError } from './errors.js';

/**
 * Who depends on whom, as declared by `dependsOn`. Edges may name components not registered
 * (yet): a cycle is found as soon as its last edge is declared, whatever the order of registration.
 */
export class DependencyGraph {
  private readonly edges = new Map<string, readonly string[]>();

  /** Adds `name`'s edges, or throws a {@link DependencyCycleError} and leaves the graph as it was. */
  add(name: string, dependsOn: readonly string[]): void {
    const cycle = this.cycleThrough(name, dependsOn);
    if (cycle) throw new DependencyCycleError(cycle);
    this.edges.set(name, [...new Set(dependsOn)]);
  }

  remove(name: string): void {
    this.edges.delete(name);
  }

  dependenciesOf(name: string): readonly string[] {
    return this.edges.get(name) ?? [];
  }

  /** A path from `name` back to itself through the new edges, if any (depth-first). */
  private cycleThrough(name: string, dependsOn: readonly string[]): string[] | undefined {
    const visited = new Set<string>();
    const path: string[] = [name];
    const visit = (node: string): boolean => {
      if (node === name) return true;
      if (visited.has(node)) return false;
      visited.add(node);
      path.push(node);
      for (const next of this.edges.get(node) ?? []) {
        if (visit(next)) return true;
      }
      path.pop();
      return false;
    };
    for (const dep of dependsOn) {
      if (visit(dep)) return [...path, name];
    }
    return undefined;
  }
}
