/**
 * Spec 2.1.4 data structures of the genetic optimizer, as discriminated unions.
 *
 * A gene's `name` is the configuration key it sets (see `AdaptiveConfigManager`'s
 * `apply-chromosome` change). Numbers are plain JS numbers: an `integer` gene holds a whole number.
 */
export type Gene =
  | { kind: 'boolean'; name: string; value: boolean }
  | { kind: 'integer'; name: string; value: number; min: number; max: number }
  | { kind: 'float'; name: string; value: number; min: number; max: number }
  | { kind: 'categorical'; name: string; value: string; options: string[] };

/** A candidate configuration: one gene per optimised parameter, and its fitness (higher is better). */
export interface Chromosome {
  genes: Gene[];
  fitness: number;
}
