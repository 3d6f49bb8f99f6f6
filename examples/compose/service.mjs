// The example service of docker-compose.yml: a stock OpenTelemetry set-up plus otel-self-heal,
// exporting OTLP to the Collector, injecting and healing faults in a loop until stopped, so that
// Jaeger, Prometheus and Grafana always have something to show (see scenario.mjs for the cycle).
// The one-shot demo (examples/demo.mjs) ends after ~25 s; this one runs until SIGTERM.
//
// Environment:
//   OTEL_EXPORTER_OTLP_ENDPOINT  where to export (the Collector: http://otel-collector:4318)
//   OTEL_SERVICE_NAME            default selfheal-example (the `job` label in Prometheus)
//   CYCLE_SECONDS                length of one fault cycle, default 90
//   CYCLES                       stop after this many cycles, default: never
//
// Run from the repository root after `npm run build`: node examples/compose/service.mjs
import { register } from 'node:module';

// ESM apps: the loader hook lets the official instrumentations see `import`ed modules.
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);

const { NodeSDK } = await import('@opentelemetry/sdk-node');
const { withSelfHealing } = await import('otel-self-heal');

const cycleSeconds = Number(process.env.CYCLE_SECONDS ?? 90);
const cycles = process.env.CYCLES ? Number(process.env.CYCLES) : Infinity;
if (!(cycleSeconds >= 5)) throw new Error(`CYCLE_SECONDS must be a number of seconds >= 5, got ${JSON.stringify(process.env.CYCLE_SECONDS)}`);
if (!(cycles >= 1)) throw new Error(`CYCLES must be a number >= 1 (or unset to run until stopped), got ${JSON.stringify(process.env.CYCLES)}`);

const sdk = new NodeSDK(
  withSelfHealing(
    { serviceName: process.env.OTEL_SERVICE_NAME ?? 'selfheal-example' },
    { breaker: { minimumRequests: 10, windowSize: 20, failureThreshold: 0.5, resetTimeout: 2000, maxResetTimeout: 4000 } },
  ),
);
sdk.start();
console.log(`selfheal-example: exporting to ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'the OTLP default (http://localhost:4318)'}; a fault cycle every ${cycleSeconds} s`);

const stop = new AbortController();
for (const s of ['SIGTERM', 'SIGINT']) process.once(s, () => stop.abort());

// The application itself, loaded after the SDK started.
const { runScenario } = await import('./scenario.mjs');
const totals = await runScenario({ cycleSeconds, cycles, signal: stop.signal });
console.log(`selfheal-example: stopped after ${totals.requests} requests (${totals.ok} ok, ${totals.failed} failed, ${totals.fastFailed} failed fast)`);
await sdk.shutdown();
