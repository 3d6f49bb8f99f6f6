/** The bars of issue 5, each a pass or a fail of one chaos report. */
import type { Bar, ChaosReport } from './reportTypes.js';

/** The bars of the issue; each one can fail. */
export function barsOf(r: ChaosReport): Bar[] {
  const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
  const { baseline, duringFaults, duringCascade } = r.containment;
  // Latency is allowed to wobble on a loaded machine, not to follow the failing downstreams (whose calls take up to the 1 s client timeout).
  const latencyCap = (base: number): number => Math.max(3 * base, base + 100);
  const bars: Bar[] = [
    { name: 'every request accounted for', value: `${r.requests.accounted}/${r.requests.sent}`, bar: 'all', pass: r.requests.accounted === r.requests.sent && r.requests.sent > 0, quietOnly: false },
    { name: 'requests lost', value: String(r.requests.byOutcome.lost), bar: '0', pass: r.requests.byOutcome.lost === 0, quietOnly: false },
    {
      name: 'requests hanging',
      value: `${r.requests.byOutcome.hanging - r.requests.hangingExcused}${r.requests.hangingExcused ? ` (and ${r.requests.hangingExcused} the machine starved)` : ''}`,
      bar: '0',
      pass: r.requests.byOutcome.hanging === r.requests.hangingExcused,
      quietOnly: true,
    },
    { name: 'faults detected', value: `${r.detection.detected}/${r.detection.faults}`, bar: 'all', pass: r.detection.detected === r.detection.faults && r.detection.faults > 0, quietOnly: false },
    {
      name: 'faults restored',
      value: `${r.faults.filter((f) => f.restored).length}/${r.faults.length}`,
      bar: 'all (but those the machine starved)',
      pass: r.faults.every((f) => f.restored || f.restoreExcused),
      quietOnly: true,
    },
    { name: 'recovery success rate', value: `${pct(r.recoveries.successRate)} of ${r.recoveries.finished}`, bar: '> 95%', pass: r.recoveries.finished > 0 && r.recoveries.successRate > 0.95, quietOnly: false },
    { name: 'false positives (component-time)', value: pct(r.falsePositives.rate), bar: '< 1%', pass: r.falsePositives.eligibleComponentS > 0 && r.falsePositives.rate < 0.01, quietOnly: true },
    { name: 'healthy route answered during faults', value: pct(duringFaults.answeredShare), bar: '>= 99%', pass: duringFaults.requests > 0 && duringFaults.answeredShare >= 0.99, quietOnly: true },
    { name: 'healthy route answered during the cascade', value: pct(duringCascade.answeredShare), bar: '>= 99%', pass: duringCascade.requests > 0 && duringCascade.answeredShare >= 0.99, quietOnly: true },
    {
      name: 'healthy downstream traffic during the cascade',
      value: `${duringCascade.downstreamRps} rps (baseline ${baseline.downstreamRps})`,
      bar: '>= 80% of baseline',
      pass: baseline.downstreamRps > 0 && duringCascade.downstreamRps >= 0.8 * baseline.downstreamRps,
      quietOnly: true,
    },
    {
      name: 'healthy route p95 during faults',
      value: `${duringFaults.p95Ms} ms (baseline ${baseline.p95Ms})`,
      bar: `<= ${latencyCap(baseline.p95Ms).toFixed(0)} ms`,
      pass: baseline.requests > 0 && duringFaults.p95Ms <= latencyCap(baseline.p95Ms),
      quietOnly: true,
    },
  ];
  return bars;
}
