import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PROMTOOL = process.env.PROMTOOL ?? '/usr/bin/promtool';
const ASSETS = resolve(import.meta.dirname, '../../collector-config/prometheus');

interface Run {
  code: number;
  output: string;
}

/** Runs promtool; never rejects, so a failing check shows its output in the assertion. */
function promtool(args: string[], cwd = ASSETS): Promise<Run> {
  return new Promise((done, fail) => {
    execFile(PROMTOOL, args, { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
      if (e?.code === 'ENOENT') return fail(new Error(`promtool not found at ${PROMTOOL}: install Debian's prometheus package (apt-get install prometheus), as .ci/run does`));
      done({ code: typeof e?.code === 'number' ? e.code : e ? 1 : 0, output: `${stdout}${stderr}` });
    });
  });
}

const tests = readdirSync(join(ASSETS, 'tests'))
  .filter((f) => f.endsWith('.test.yml'))
  .map((f) => join('tests', f));

describe('promtool on the shipped Prometheus configuration and rules', () => {
  it('checks the configuration, which loads the rules', async () => {
    const r = await promtool(['check', 'config', 'prometheus.yml']);
    expect(r.output).toContain('SUCCESS: 1 rule files found');
    expect(r.code, r.output).toBe(0);
  });

  it('checks the rules', async () => {
    const r = await promtool(['check', 'rules', 'rules/selfheal.rules.yml']);
    expect(r.output).toMatch(/SUCCESS: 7 rules found/);
    expect(r.code, r.output).toBe(0);
  });

  it('passes the rule unit tests, every alert both firing and not', async () => {
    expect(tests.length).toBeGreaterThanOrEqual(3);
    const r = await promtool(['test', 'rules', ...tests]);
    expect(r.code, r.output).toBe(0);
    expect(r.output.match(/SUCCESS/g)).toHaveLength(tests.length);
    const covered = tests.map((f) => readFileSync(join(ASSETS, f), 'utf8')).join('\n');
    const rules = readFileSync(join(ASSETS, 'rules/selfheal.rules.yml'), 'utf8');
    for (const [, alert] of rules.matchAll(/- alert: (\w+)/g)) {
      // A firing case (exp_labels under it) and a quiet one (exp_alerts: []) per alert.
      expect(covered, alert).toMatch(new RegExp(`alertname: ${alert}\\n\\s+exp_alerts: \\[\\]`));
      expect(covered, alert).toMatch(new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels:`));
    }
  });
});

describe('promtool catches a broken copy', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'selfheal-promtool-'));
    cpSync(ASSETS, dir, { recursive: true });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const edit = (find: string, replace: string): void => {
    const path = join(dir, 'rules/selfheal.rules.yml');
    const text = readFileSync(join(ASSETS, 'rules/selfheal.rules.yml'), 'utf8');
    expect(text).toContain(find);
    writeFileSync(path, text.replace(find, replace));
  };

  it('fails the unit tests when the breaker alert waits for a state breakers never reach', async () => {
    edit('expr: selfheal_breaker_state >= 1', 'expr: selfheal_breaker_state >= 3');
    const r = await promtool(['test', 'rules', ...tests], dir);
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('alertname: SelfHealBreakerOpen');
    expect(r.output).toContain('FAILED');
  });

  it('fails the rules check on an expression that does not parse', async () => {
    edit('expr: selfheal_component_health >= 2', 'expr: selfheal_component_health >=');
    const r = await promtool(['check', 'rules', 'rules/selfheal.rules.yml'], dir);
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/parse error/i);
  });
});
