/** The chaos report for people (tables) and for machines (JSON in a temporary directory). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OUTCOMES } from './load.js';
import type { ChaosReport } from './report.js';

function table(head: string[], rows: Array<Array<string | number | undefined>>): string {
  const cells = [head, ...rows.map((r) => r.map((c) => (c === undefined ? '-' : String(c))))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

const s = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : `${(ms / 1000).toFixed(1)} s`);

export function formatReport(r: ChaosReport): string {
  const out: string[] = [];
  out.push(`chaos run: profile ${r.profile}, seed ${r.seed}, ${r.durationS} s of load, plugin instrumentations: ${r.instrumentations.join(', ')}`);
  out.push('', 'Requests by outcome');
  const routes = Object.keys(r.requests.byRoute).sort();
  out.push(table(['route', ...OUTCOMES], [...routes.map((route) => [route, ...OUTCOMES.map((o) => r.requests.byRoute[route]![o])]), ['all', ...OUTCOMES.map((o) => r.requests.byOutcome[o])]]));

  out.push('', 'Faults');
  out.push(
    table(
      ['#', 'at', 'kind', 'target', 'for', 'detected in', 'by', 'restored in', 'recoveries'],
      r.faults.map((f) => [
        f.id,
        `${f.at.toFixed(1)} s`,
        f.kind + (f.params.mode ? ` (${f.params.mode})` : f.params.latencyMs ? ` (${f.params.latencyMs} ms)` : f.params.share ? ` (${Math.round(f.params.share * 100)}% of requests)` : ''),
        f.target,
        s(f.durationMs),
        f.detected ? s(f.detectMs) : 'NOT DETECTED',
        f.detectedBy,
        f.restored ? s(f.restoreMs) : `${f.restoreExcused ? 'not restored, machine starved' : 'NOT RESTORED'}${f.restoreMs === undefined ? '' : ` (${s(f.restoreMs)})`}`,
        `${f.recovered}/${f.recoveriesStarted}`,
      ]),
    ),
  );

  const rec = r.recoveries;
  out.push('', 'Recoveries (the plugin\'s own events)');
  out.push(
    table(
      ['component', 'started', 'recovered', 'other'],
      Object.entries(rec.byComponent).map(([c, b]) => [c, b.started, b.recovered, b.other]),
    ),
  );
  out.push(
    `started ${rec.started}, finished ${rec.finished}: recovered ${rec.recovered}, escalated ${rec.escalated}, manual intervention ${rec.manualIntervention}; cancelled at shutdown ${rec.cancelled}; ` +
      `attempts ${rec.attempts} (${rec.attemptSuccesses} verified); recovered while the fault was still on ${rec.recoveredWhileFaulty}`,
  );

  const fp = r.falsePositives;
  out.push(
    '',
    `False positives: ${fp.falseComponentS.toFixed(1)} of ${fp.eligibleComponentS.toFixed(0)} component-seconds outside fault windows (${(fp.rate * 100).toFixed(2)}%)` +
      (fp.excusedComponentS ? `; ${fp.excusedComponentS.toFixed(0)} more judged while the machine starved the service, left out` : ''),
  );
  for (const e of fp.episodes) out.push(`  at ${e.at.toFixed(1)} s: ${e.component} ${e.worst} for ${e.seconds.toFixed(2)} s`);

  const c = r.containment;
  out.push('', `Containment: route ${c.route} and its downstream ${c.downstream}`);
  out.push(
    table(
      ['window', 'requests', 'answered', 'p95', 'downstream rps'],
      (['baseline', 'duringFaults', 'duringCascade'] as const).map((w) => [w, c[w].requests, `${(c[w].answeredShare * 100).toFixed(1)}%`, `${c[w].p95Ms} ms`, c[w].downstreamRps]),
    ),
  );
  if (r.service) {
    out.push('', `Service: ${JSON.stringify(r.service.counters)}, ${JSON.stringify(r.service.usage)}`);
    out.push(table(['errors the routes met', 'count'], Object.entries(r.service.errors).sort((a, b) => b[1] - a[1])));
    if (r.service.abandoned.length) out.push(`Requests the load gave up on, as the service saw them: ${JSON.stringify(r.service.abandoned.slice(0, 10))}`);
  }
  const e = r.environment;
  out.push(
    '',
    `Machine: harness stalled ${e.harnessStalls} times (worst ${e.harnessWorstMs} ms), service ${e.serviceStalls} times outside CPU spikes (worst ${e.serviceWorstMs} ms); ` +
      `the service waited for a CPU ${(e.serviceStarvation * 100).toFixed(0)}% of its busy time, more than half of a second for ${e.starvedSeconds} s in all ` +
      `(judgments resting on that: ${(e.starvedCoverage * 100).toFixed(0)}% of the run)`,
  );
  if (e.overloaded) out.push('The machine was overloaded: the bars marked * depend on it and are reported, not judged.');
  out.push('', 'Bars');
  out.push(
    table(
      ['', 'measure', 'value', 'bar'],
      r.bars.map((b) => [b.pass ? 'ok' : e.overloaded && b.quietOnly ? 'fail*' : 'FAIL', `${b.name}${b.quietOnly ? ' *' : ''}`, b.value, b.bar]),
    ),
  );
  return out.join('\n');
}

/** Writes the report as JSON into a new temporary directory; returns the file. */
export function writeReport(r: ChaosReport): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `otel-self-heal-chaos-${r.profile}-`));
  const file = path.join(dir, 'report.json');
  writeFileSync(file, JSON.stringify(r, null, 2));
  return file;
}
