import { createRequire } from 'node:module';
import * as api from '@opentelemetry/api';

/** The parts of the logs API we use; identical in `@opentelemetry/api-logs` 0.2xx and `@opentelemetry/api` 1.10+. */
export interface EventLogger {
  emit(record: {
    eventName?: string;
    severityNumber?: number;
    severityText?: string;
    body?: string;
    attributes?: api.Attributes;
    timestamp?: number;
  }): void;
}
export interface EventLoggerProvider {
  getLogger(name: string, version?: string): EventLogger;
}

interface LogsApi {
  getLoggerProvider(): EventLoggerProvider;
}

let cached: LogsApi | null | undefined;

/**
 * The global logs API. SDK 3 keeps it in `@opentelemetry/api` itself (`api.logs`), SDK 2 in
 * `@opentelemetry/api-logs`, with a different global: feature-detect the first, fall back to
 * the second, and look the provider up at emit time, since a logger taken before the SDK
 * starts stays a no-op for good (research/otel.md §5 and addendum 2).
 */
function logsApi(): LogsApi | null {
  if (cached !== undefined) return cached;
  const fromApi = (api as unknown as { logs?: LogsApi }).logs;
  if (fromApi) return (cached = fromApi);
  for (const base of [`${process.cwd()}/package.json`, import.meta.url]) {
    try {
      const mod = createRequire(base)('@opentelemetry/api-logs') as { logs?: LogsApi };
      if (mod.logs) return (cached = mod.logs);
    } catch {
      // not installed here; try the next place
    }
  }
  return (cached = null);
}

export const SEVERITY = { INFO: 9, WARN: 13, ERROR: 17 } as const;

/** A logger from `provider` if one was given (NodeSDK passes it to instrumentations), else from the global API. */
export function eventLogger(provider: EventLoggerProvider | undefined, name: string, version: string): EventLogger | undefined {
  if (provider) return provider.getLogger(name, version);
  return logsApi()?.getLoggerProvider().getLogger(name, version);
}
