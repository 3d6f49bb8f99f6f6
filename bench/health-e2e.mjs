// Part of npm run bench:health: a real downstream, called at 50 rps with fetch, starts failing
// (503) after 3 s of healthy traffic; measures the time from the first failing response until
// the component is failed and until its breaker is open. Default options.
import http from 'node:http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { getSelfHealing, withSelfHealing } from '../dist/index.js';

const sdk = new NodeSDK(withSelfHealing({ instrumentations: [new UndiciInstrumentation()], autoDetectResources: false }, { officialInstrumentations: false }));
sdk.start();
let failing = false;
let firstFailure;
const server = http.createServer((_req, res) => {
  if (failing && firstFailure === undefined) firstFailure = performance.now();
  res.statusCode = failing ? 503 : 200;
  res.end();
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${server.address().port}`;
const plugin = getSelfHealing();
let failedAt;
let openAt;
plugin.health.onChange((c) => {
  if (c.component === origin && c.to.kind === 'failed' && failedAt === undefined) failedAt = performance.now();
});
plugin.breakers.onStateChange((c) => {
  if (c.breaker === origin && c.to === 'open' && openAt === undefined) openAt = performance.now();
});
const load = setInterval(() => fetch(origin).then((r) => r.arrayBuffer(), () => undefined), 20);
await new Promise((r) => setTimeout(r, 3000));
failing = true;
await new Promise((r) => setTimeout(r, 3000));
clearInterval(load);
await new Promise((r) => server.close(r));
await sdk.shutdown();
const ms = (t) => (t === undefined ? 'never' : `${(t - firstFailure).toFixed(0)} ms`);
console.log('\n4. End-to-end detection at 50 rps (real downstream turns to 503 after 3 s of 200s; default options)');
console.log(`   component failed after ${ms(failedAt)}   bar < 1000 ms: ${failedAt !== undefined && failedAt - firstFailure < 1000 ? 'PASS' : 'FAIL'}`);
console.log(`   breaker open after     ${ms(openAt)}   (opened by ${openAt !== undefined && failedAt !== undefined && openAt >= failedAt ? 'health' : 'its own failure rate'})`);
