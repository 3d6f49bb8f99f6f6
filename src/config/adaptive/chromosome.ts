import { z } from 'zod';
import type { Chromosome, Gene } from '../../optimizer/types.js';
import { ConfigValidationError, parseOptions } from '../validate.js';
import type { ParameterRules, Problem } from './ParameterRules.js';
import type { ConfigParameters, ConfigValue } from './types.js';

const bounds = { min: z.number().finite(), max: z.number().finite() };

const geneSchema = z.discriminatedUnion(
  'kind',
  [
    z.object({ kind: z.literal('boolean'), name: z.string(), value: z.boolean() }),
    z.object({ kind: z.literal('integer'), name: z.string(), value: z.number().int({ error: 'must be a whole number (integer gene)' }), ...bounds }),
    z.object({ kind: z.literal('float'), name: z.string(), value: z.number().finite(), ...bounds }),
    z.object({ kind: z.literal('categorical'), name: z.string(), value: z.string(), options: z.array(z.string()) }),
  ],
  { error: "must be a gene of kind 'boolean', 'integer', 'float' or 'categorical'" },
);

const chromosomeSchema = z.object({
  genes: z.array(geneSchema, { error: 'must be an array of genes' }),
  // NaN: not evaluated yet (the version then has no fitness score).
  fitness: z.union([z.number(), z.nan()], { error: 'must be a number (higher is better)' }),
});

/** The gene kinds that can set a parameter holding a value of this type. */
const KINDS_FOR: Record<string, ReadonlyArray<Gene['kind']>> = {
  boolean: ['boolean'],
  number: ['integer', 'float'],
  string: ['categorical'],
};

function rangeProblem(gene: Gene, path: string, shown: string): string | undefined {
  switch (gene.kind) {
    case 'integer':
    case 'float':
      if (gene.min > gene.max) return `${path} has min ${gene.min} above max ${gene.max}`;
      if (gene.value < gene.min || gene.value > gene.max) return `${path} value ${shown}is outside its range [${gene.min}, ${gene.max}]`;
      return undefined;
    case 'categorical':
      if (gene.options.includes(gene.value)) return undefined;
      return `${path} value ${shown}is not one of its options (${gene.options.map((o) => JSON.stringify(o)).join(', ')})`;
    default:
      return undefined;
  }
}

/**
 * The parameter values a chromosome sets, checked against the parameters: every gene must name a
 * known parameter once, be of the kind of the value it replaces, hold a value inside its own range
 * and fit the parameter's constraint. Problems are added to `problems`.
 */
export function chromosomeValues(
  chromosome: unknown,
  current: ConfigParameters,
  defaults: ConfigParameters,
  rules: ParameterRules,
  problems: Problem[],
): Map<string, ConfigValue> {
  const out = new Map<string, ConfigValue>();
  let parsed: Chromosome;
  try {
    parsed = parseOptions(chromosomeSchema, chromosome, 'chromosome');
  } catch (err) {
    if (!(err instanceof ConfigValidationError)) throw err;
    problems.push(...err.problems);
    return out;
  }
  parsed.genes.forEach((gene, i) => {
    const where = `chromosome.genes[${i}]`;
    const path = `${where} (${JSON.stringify(gene.name)})`; // for messages: the index and the key it sets
    if (!rules.has(gene.name)) {
      problems.push({ path: `${where}.name`, message: `${where}.name ${JSON.stringify(gene.name)} is not a known parameter ${rules.knownHint()}` });
      return;
    }
    if (out.has(gene.name)) {
      problems.push({ path: where, message: `${path} sets a parameter an earlier gene already sets` });
      return;
    }
    const held = Object.hasOwn(current, gene.name) ? current[gene.name] : Object.hasOwn(defaults, gene.name) ? defaults[gene.name] : undefined;
    const kinds = held === undefined ? undefined : KINDS_FOR[typeof held];
    if (kinds !== undefined && !kinds.includes(gene.kind)) {
      const article = gene.kind === 'integer' ? 'an' : 'a';
      const message = `${path} is ${article} ${gene.kind} gene but the parameter holds a ${typeof held} (use a gene of kind ${kinds.join(' or ')})`;
      problems.push({ path: where, message });
      return;
    }
    const range = rangeProblem(gene, path, rules.isSensitive(gene.name) ? '' : `${JSON.stringify(gene.value)} `);
    if (range !== undefined) {
      problems.push({ path: where, message: range });
      return;
    }
    const found: Problem[] = [];
    const value = rules.check(gene.name, gene.value, found);
    for (const p of found) problems.push({ path: p.path, message: `${p.message} (from chromosome.genes[${i}])` });
    if (value !== undefined) out.set(gene.name, value);
  });
  return out;
}
