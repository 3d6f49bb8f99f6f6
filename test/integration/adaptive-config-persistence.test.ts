import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diag } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { z } from 'zod';
import { AdaptiveConfigManager, type AdaptiveConfigOptions, type ConfigChangeEvent } from '../../src/config/adaptive/index.js';

const INITIAL = { 'retry.max': 3, 'sample.ratio': 0.5, mode: 'fast', 'db.password': 'correct horse' };
const CONSTRAINTS: AdaptiveConfigOptions['constraints'] = {
  'retry.max': z.number().int().min(0).max(10, { error: 'must be at most 10' }),
  'sample.ratio': z.number().min(0).max(1),
  mode: z.enum(['fast', 'safe']),
  'legacy.flag': z.boolean(),
  'db.password': { schema: z.string().min(8), sensitive: true },
};

let dir: string;
let file: string;
let warn: MockInstance<typeof diag.warn>;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'otel-self-heal-config-'));
  file = join(dir, 'state', 'config.json');
  warn = vi.spyOn(diag, 'warn').mockImplementation(() => {});
});

afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

function clockAt(t: number) {
  return { now: () => t };
}

async function started(options: Partial<AdaptiveConfigOptions> = {}) {
  const manager = new AdaptiveConfigManager({ initial: INITIAL, constraints: CONSTRAINTS, persistPath: file, clock: clockAt(1_000), ...options });
  await manager.start();
  return manager;
}

/** Two saves, so that the file holds version 3 and its `.bak` version 2. */
async function savedTwice() {
  const m = await started();
  m.applyChange({ kind: 'update', key: 'retry.max', value: 5 });
  await m.flush();
  m.applyChange({ kind: 'update', key: 'retry.max', value: 7 });
  await m.stop();
  return m;
}

const warnings = () => warn.mock.calls.map((c) => String(c[0]));

describe('AdaptiveConfigManager persistence', () => {
  it('starts from the initial configuration, without a warning, when there is no saved file', async () => {
    const m = await started();
    expect(m.currentConfig()).toMatchObject({ version: 1, parameters: INITIAL });
    expect(warn).not.toHaveBeenCalled();
    await m.stop();
  });

  it('brings back the current version and the history after a restart', async () => {
    const first = await started();
    first.applyChange({ kind: 'update', key: 'retry.max', value: 5 });
    first.applyChange({ kind: 'apply-complete', config: { parameters: { ...INITIAL, mode: 'safe' }, source: 'optimized', fitnessScore: 0.6 } });
    first.recordEffectiveness(2, 0.4);
    first.rollback(2);
    await first.stop();

    const second = await started({ clock: clockAt(9_000) });
    expect(second.currentConfig()).toEqual(first.currentConfig());
    expect(second.history()).toEqual(first.history());
    expect(second.currentConfig()).toMatchObject({ version: 4, cause: 'rollback', parameters: { 'retry.max': 5, mode: 'fast' } });
    expect(second.applyChange({ kind: 'update', key: 'mode', value: 'safe' })).toMatchObject({ version: 5, timestamp: 9_000 });
    second.rollback(3); // versions from before the restart can still be rolled back to
    expect(second.currentConfig()).toMatchObject({ version: 6, source: 'optimized', fitnessScore: 0.6 });
    await second.stop();
    expect(warn).not.toHaveBeenCalled();
  });

  it('tells subscribers of the configuration it loads', async () => {
    await savedTwice();
    const m = new AdaptiveConfigManager({ initial: INITIAL, constraints: CONSTRAINTS, persistPath: file });
    const events: ConfigChangeEvent[] = [];
    m.onChange((e) => events.push(e));
    await m.start();
    expect(events).toEqual([
      expect.objectContaining({ type: 'loaded', from: 1, to: 3, changedKeys: ['retry.max'], previous: { 'retry.max': 3 }, current: { 'retry.max': 7 } }),
    ]);
    await m.stop();
  });

  it('writes a JSON file with a sha256 checksum of its payload, readable by its owner only, and leaves no temp file', async () => {
    await savedTwice();
    const saved = JSON.parse(await readFile(file, 'utf8'));
    expect(Object.keys(saved)).toEqual(['format', 'version', 'current', 'history', 'checksum']);
    expect(saved.version).toBe(3);
    const { checksum, ...payload } = saved;
    expect(checksum).toBe(createHash('sha256').update(JSON.stringify(payload)).digest('hex'));
    expect((await readdir(join(dir, 'state'))).sort()).toEqual(['config.json', 'config.json.bak']);
    if (process.platform !== 'win32') expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(`${file}.bak`, 'utf8')).version).toBe(2);
  });

  it('uses the last good copy, with a warning naming the file, when the file is torn mid-write', async () => {
    await savedTwice();
    const { size } = await stat(file);
    await truncate(file, Math.floor(size / 2));
    const m = await started();
    expect(m.currentConfig()).toMatchObject({ version: 2, parameters: { 'retry.max': 5 } });
    expect(warnings()).toEqual([
      `otel-self-heal: the saved configuration ${file} is unusable (not valid JSON: torn or truncated write?); using the last good copy ${file}.bak (version 2)`,
    ]);
    // The next save puts a good file back and keeps the good backup.
    m.applyChange({ kind: 'update', key: 'mode', value: 'safe' });
    await m.stop();
    expect(JSON.parse(await readFile(file, 'utf8')).version).toBe(3);
    expect(JSON.parse(await readFile(`${file}.bak`, 'utf8')).version).toBe(2);
  });

  it('uses the last good copy when the checksum does not match', async () => {
    await savedTwice();
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('"retry.max":7', '"retry.max":9'));
    const m = await started();
    expect(m.currentConfig()).toMatchObject({ version: 2, parameters: { 'retry.max': 5 } });
    expect(warnings()[0]).toContain(`${file} is unusable (checksum mismatch)`);
    await m.stop();
  });

  it('starts from the initial configuration, with a warning, when the file and its copy are both unusable', async () => {
    await savedTwice();
    await writeFile(file, '{"format":1,');
    await writeFile(`${file}.bak`, 'not json');
    const m = await started();
    expect(m.currentConfig()).toMatchObject({ version: 1, parameters: INITIAL });
    expect(warnings()).toEqual([
      `otel-self-heal: the saved configuration ${file} is unusable (not valid JSON: torn or truncated write?) and so is its last good copy ${file}.bak (not valid JSON: torn or truncated write?); starting from the initial configuration`,
    ]);
    await m.stop();
  });

  it('validates loaded values again: a value that no longer fits goes back to its default, an unknown key is dropped', async () => {
    const first = await started();
    first.applyChange([
      { kind: 'update', key: 'retry.max', value: 9 },
      { kind: 'add', key: 'legacy.flag', value: true },
    ]);
    await first.stop();

    const { 'legacy.flag': _dropped, ...narrower } = CONSTRAINTS;
    const second = await started({ constraints: { ...narrower, 'retry.max': z.number().int().max(5, { error: 'must be at most 5' }) } });
    expect(second.currentConfig()).toMatchObject({ version: 3, cause: 'load', parameters: INITIAL, changedKeys: ['legacy.flag', 'retry.max'] });
    expect(second.currentConfig().parameters).not.toHaveProperty('legacy.flag');
    expect(warnings()).toEqual([
      `otel-self-heal: in the saved configuration ${file}: config.parameters["retry.max"] must be at most 5, got 9; using its default instead`,
      `otel-self-heal: in the saved configuration ${file}: config.parameters["legacy.flag"] is not a known parameter (known: retry.max, sample.ratio, mode, db.password); dropped`,
    ]);
    await second.stop();
  });

  it('saves nothing before start(), and replaces such changes with the saved configuration', async () => {
    await savedTwice();
    const m = new AdaptiveConfigManager({ initial: INITIAL, constraints: CONSTRAINTS, persistPath: file });
    m.applyChange({ kind: 'update', key: 'mode', value: 'safe' });
    await m.flush();
    expect(JSON.parse(await readFile(file, 'utf8')).version).toBe(3);
    await m.start();
    expect(m.currentConfig()).toMatchObject({ version: 3, parameters: { mode: 'fast', 'retry.max': 7 } });
    expect(warnings()).toEqual([`otel-self-heal: changes applied before start() were replaced by the saved configuration ${file}`]);
    await m.stop();
  });

  it('saves on a persist signal and takes up a file written by another manager on a reload signal', async () => {
    const a = await started();
    const b = await started();
    a.applyChange({ kind: 'update', key: 'sample.ratio', value: 0.1 });
    expect(await a.signal({ kind: 'persist' })).toMatchObject({ ok: true });
    expect(await b.signal({ kind: 'reload' })).toMatchObject({ ok: true, config: { version: 2, parameters: { 'sample.ratio': 0.1 } } });
    await a.stop();
    await b.stop();
  });

  it('keeps saving the newest state when changes come faster than the disk', async () => {
    const m = await started();
    for (let i = 0; i < 20; i++) m.applyChange({ kind: 'update', key: 'retry.max', value: i % 10 === 3 ? 4 : i % 10 });
    await m.flush();
    const saved = JSON.parse(await readFile(file, 'utf8'));
    expect(saved.version).toBe(m.currentConfig().version);
    await m.stop();
  });
});
