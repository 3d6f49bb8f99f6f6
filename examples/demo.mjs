// npm run demo: a service with a stock OpenTelemetry set-up plus one line of otel-self-heal,
// calling a downstream that fails for a while and recovers. No external service needed; with
// OTEL_EXPORTER_OTLP_ENDPOINT set, its traces go there (e.g. a Collector in front of Jaeger).
import { register } from 'node:module';

// ESM apps: the loader hook lets the official instrumentations see `import`ed modules.
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);

if (!process.env.OTEL_EXPORTER_OTLP_ENDPOINT) {
  // Nothing to export to: keep the SDK quiet instead of retrying against localhost:4318.
  for (const signal of ['TRACES', 'METRICS', 'LOGS']) process.env[`OTEL_${signal}_EXPORTER`] ??= 'none';
}

const { NodeSDK } = await import('@opentelemetry/sdk-node');
const { withSelfHealing, getSelfHealing } = await import('otel-self-heal');

const sdk = new NodeSDK(
  // The one line: the user's config goes in, the same config with self-healing comes out.
  withSelfHealing(
    { serviceName: 'otel-self-heal-demo' },
    {
      breaker: { minimumRequests: 10, windowSize: 20, failureThreshold: 0.5, resetTimeout: 2000, maxResetTimeout: 4000 },
      // The live status page, on a free port (DEMO_STATUS_PORT to choose one).
      statusServer: { port: Number(process.env.DEMO_STATUS_PORT ?? 0) },
    },
  ),
);
sdk.start();
const statusUrl = await getSelfHealing()?.statusServer?.ready;
if (statusUrl) console.log(`Status page: ${statusUrl} (live while the demo runs)`);

// The application itself, with ordinary static imports, loaded after the SDK started.
const { runDemo } = await import('./demo-app.mjs');
await runDemo({ seconds: Number(process.env.DEMO_SECONDS ?? 24) });
await sdk.shutdown();
