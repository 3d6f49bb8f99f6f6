import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AdaptiveConfigManager } from '../../src/config/adaptive/index.js';
import { ConfigValidationError } from '../../src/config/index.js';
import type { Chromosome, Gene } from '../../src/optimizer/types.js';

function makeManager() {
  return new AdaptiveConfigManager({
    initial: { 'breaker.failureThreshold': 0.5, 'breaker.minimumRequests': 10, 'cache.enabled': true, 'cache.policy': 'lru' },
    constraints: {
      'breaker.failureThreshold': z.number().min(0, { error: 'must be between 0 and 1' }).max(1, { error: 'must be between 0 and 1' }),
      'breaker.minimumRequests': z.number().int({ error: 'must be a whole number' }).min(1).max(1_000, { error: 'must be at most 1000' }),
      'cache.enabled': z.boolean(),
      'cache.policy': z.enum(['lru', 'lfu', 'fifo']),
      'cache.ttlMs': z.number().min(0),
    },
  });
}

const chromosome = (genes: Gene[], fitness = 0.75): Chromosome => ({ genes, fitness });

function problemsOf(manager: AdaptiveConfigManager, c: unknown): string[] {
  try {
    manager.applyChange({ kind: 'apply-chromosome', chromosome: c as Chromosome });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigValidationError);
    return (err as ConfigValidationError).problems.map((p) => p.message);
  }
  throw new Error('expected the chromosome to be refused');
}

describe('apply-chromosome', () => {
  it('sets the parameter each gene names, as an optimized configuration scored with the fitness', () => {
    const manager = makeManager();
    const next = manager.applyChange({
      kind: 'apply-chromosome',
      chromosome: chromosome([
        { kind: 'float', name: 'breaker.failureThreshold', value: 0.3, min: 0.1, max: 0.9 },
        { kind: 'integer', name: 'breaker.minimumRequests', value: 20, min: 5, max: 100 },
        { kind: 'boolean', name: 'cache.enabled', value: false },
        { kind: 'categorical', name: 'cache.policy', value: 'lfu', options: ['lru', 'lfu'] },
      ]),
    });
    expect(next).toMatchObject({ version: 2, source: 'optimized', fitnessScore: 0.75 });
    expect(next.parameters).toEqual({ 'breaker.failureThreshold': 0.3, 'breaker.minimumRequests': 20, 'cache.enabled': false, 'cache.policy': 'lfu' });
    expect(manager.history().at(-1)!.cause).toBe('apply-chromosome');
  });

  it('keeps the parameters no gene names, and can set a parameter that was not set', () => {
    const manager = makeManager();
    const next = manager.applyChange({
      kind: 'apply-chromosome',
      chromosome: chromosome([{ kind: 'float', name: 'cache.ttlMs', value: 1_500, min: 0, max: 60_000 }], Number.NaN),
    });
    expect(next.parameters).toMatchObject({ 'breaker.failureThreshold': 0.5, 'cache.ttlMs': 1_500 });
    expect(next.fitnessScore).toBeUndefined(); // a fitness not yet computed is not recorded
  });

  it('refuses a gene that names no known parameter', () => {
    const manager = makeManager();
    expect(problemsOf(manager, chromosome([{ kind: 'float', name: 'breaker.failureTreshold', value: 0.3, min: 0, max: 1 }]))).toEqual([
      'chromosome.genes[0].name "breaker.failureTreshold" is not a known parameter (known: breaker.failureThreshold, breaker.minimumRequests, cache.enabled, cache.policy, cache.ttlMs)',
    ]);
  });

  it('refuses a gene of the wrong kind for the value it replaces', () => {
    const manager = makeManager();
    expect(problemsOf(manager, chromosome([{ kind: 'boolean', name: 'breaker.failureThreshold', value: true }]))).toEqual([
      'chromosome.genes[0] ("breaker.failureThreshold") is a boolean gene but the parameter holds a number (use a gene of kind integer or float)',
    ]);
    expect(problemsOf(manager, chromosome([{ kind: 'integer', name: 'cache.policy', value: 1, min: 0, max: 2 }]))).toEqual([
      'chromosome.genes[0] ("cache.policy") is an integer gene but the parameter holds a string (use a gene of kind categorical)',
    ]);
  });

  it('refuses a gene whose value is outside its own range or options', () => {
    const manager = makeManager();
    expect(
      problemsOf(
        manager,
        chromosome([
          { kind: 'integer', name: 'breaker.minimumRequests', value: 200, min: 5, max: 100 },
          { kind: 'categorical', name: 'cache.policy', value: 'fifo', options: ['lru', 'lfu'] },
          { kind: 'float', name: 'breaker.failureThreshold', value: 0.5, min: 0.9, max: 0.1 },
        ]),
      ),
    ).toEqual([
      'chromosome.genes[0] ("breaker.minimumRequests") value 200 is outside its range [5, 100]',
      'chromosome.genes[1] ("cache.policy") value "fifo" is not one of its options ("lru", "lfu")',
      'chromosome.genes[2] ("breaker.failureThreshold") has min 0.9 above max 0.1',
    ]);
  });

  it("refuses a gene value inside its range but outside the parameter's constraint, naming the key and the gene", () => {
    const manager = makeManager();
    expect(problemsOf(manager, chromosome([{ kind: 'float', name: 'breaker.failureThreshold', value: 1.5, min: 0, max: 2 }]))).toEqual([
      'config.parameters["breaker.failureThreshold"] must be between 0 and 1, got 1.5 (from chromosome.genes[0])',
    ]);
  });

  it('refuses an integer gene holding a fraction, a gene of no known kind and two genes for one parameter', () => {
    const manager = makeManager();
    const [fraction] = problemsOf(manager, chromosome([{ kind: 'integer', name: 'breaker.minimumRequests', value: 10.5, min: 1, max: 100 }]));
    expect(fraction).toBe('chromosome.genes[0].value must be a whole number (integer gene), got 10.5');
    const [kind] = problemsOf(manager, { genes: [{ kind: 'string', name: 'cache.policy', value: 'lru' }], fitness: 1 });
    expect(kind).toMatch(/^chromosome\.genes\[0\]\.kind must be a gene of kind 'boolean', 'integer', 'float' or 'categorical'/);
    expect(
      problemsOf(
        manager,
        chromosome([
          { kind: 'boolean', name: 'cache.enabled', value: false },
          { kind: 'boolean', name: 'cache.enabled', value: true },
        ]),
      ),
    ).toEqual(['chromosome.genes[1] ("cache.enabled") sets a parameter an earlier gene already sets']);
    const [shape] = problemsOf(manager, { fitness: 1 });
    expect(shape).toBe('chromosome.genes must be an array of genes, got nothing');
  });

  it('reports every bad gene at once and leaves the configuration untouched', () => {
    const manager = makeManager();
    const before = manager.currentConfig();
    const problems = problemsOf(
      manager,
      chromosome([
        { kind: 'float', name: 'breaker.failureThreshold', value: 0.2, min: 0, max: 1 },
        { kind: 'float', name: 'unknown', value: 0.2, min: 0, max: 1 },
        { kind: 'boolean', name: 'cache.policy', value: true },
      ]),
    );
    expect(problems).toHaveLength(2);
    expect(manager.currentConfig()).toBe(before);
  });
});
