/**
 * Zero-code start: `node --import otel-self-heal/register app.js` (ESM and CommonJS apps) or
 * `node --require otel-self-heal/register app.js` (CommonJS). Starts NodeSDK with the
 * auto-instrumentations (when installed) plus otel-self-heal, configured from `OTEL_*` and
 * `SELFHEAL_*` environment variables, and shuts it down on SIGTERM and at exit. Use it instead
 * of `@opentelemetry/auto-instrumentations-node/register`, not beside it (two SDKs would clash).
 */
import { diag, DiagConsoleLogger, DiagLogLevel } from '@opentelemetry/api';
import * as nodeModule from 'node:module';
import { optionsFromEnv } from './env.js';
import { loadOptional } from './load.js';
import { withSelfHealing } from './withSelfHealing.js';

type NodeSdkModule = { NodeSDK: new (config: object) => { start(): void; shutdown(): Promise<void> } };

const logLevel = process.env.OTEL_LOG_LEVEL?.toUpperCase() as keyof typeof DiagLogLevel | undefined;
if (logLevel && logLevel in DiagLogLevel) diag.setLogger(new DiagConsoleLogger(), DiagLogLevel[logLevel]);

// ESM apps need the import-in-the-middle hook for the official instrumentations to see
// `import`ed modules; our own patches (http.Agent, the undici dispatcher) do not depend on it.
// Only from `--import` (the ESM build): registered from a `--require` preload, Node 20
// initialises the hook twice. CommonJS apps are covered by the require hooks.
const register = (nodeModule as { register?: (specifier: string, parent: string) => void }).register;
if (register && !import.meta.url.endsWith('.cjs')) {
  try {
    register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  } catch (err) {
    diag.warn('otel-self-heal/register: could not install the ESM loader hook; ESM modules may not be instrumented', err);
  }
}

const sdkNode = loadOptional<NodeSdkModule>('@opentelemetry/sdk-node');
if (!sdkNode) {
  console.error('otel-self-heal/register: @opentelemetry/sdk-node is not installed (npm install @opentelemetry/sdk-node); nothing was started');
} else {
  const auto = loadOptional<{ getNodeAutoInstrumentations: () => unknown[] }>('@opentelemetry/auto-instrumentations-node');
  const config = { instrumentations: auto ? [auto.getNodeAutoInstrumentations()] : [] };
  let withPlugin = config;
  try {
    withPlugin = withSelfHealing(config, optionsFromEnv());
  } catch (err) {
    // A typo in a SELFHEAL_* variable must not take the application down: say what is wrong,
    // in one line, and run with plain OpenTelemetry.
    console.error(`otel-self-heal/register: ${(err as Error).message}; starting OpenTelemetry without self-healing`);
  }
  const sdk = new sdkNode.NodeSDK(withPlugin);
  sdk.start();
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= sdk.shutdown().catch((err: unknown) => diag.error('otel-self-heal/register: SDK shutdown failed', err)));
  process.once('SIGTERM', () =>
    void stop().finally(() => {
      // Listening for SIGTERM takes away Node's default exit; give it back, unless the
      // application handles SIGTERM itself (it may still be draining).
      if (process.listenerCount('SIGTERM') === 0) process.exit(143);
    }),
  );
  process.once('beforeExit', () => void stop());
}
