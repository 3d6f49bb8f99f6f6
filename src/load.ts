import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * Loads an optional package synchronously, looking where the application would find it first
 * (its working directory), then beside `@opentelemetry/sdk-node` (whose dependencies include the
 * exporters), then beside this package. Undefined when it is not installed.
 */
export function loadOptional<T>(name: string): T | undefined {
  for (const req of requirers()) {
    try {
      return req(name) as T;
    } catch (err) {
      if ((err as { code?: string }).code !== 'MODULE_NOT_FOUND') throw err;
    }
  }
  return undefined;
}

let cache: NodeJS.Require[] | undefined;

function requirers(): NodeJS.Require[] {
  if (cache) return cache;
  const app = createRequire(path.join(process.cwd(), 'package.json'));
  const own = createRequire(import.meta.url);
  const list = [app, own];
  for (const r of [app, own]) {
    try {
      list.push(createRequire(r.resolve('@opentelemetry/sdk-node')));
      break;
    } catch {
      // no sdk-node reachable from here
    }
  }
  return (cache = list);
}
