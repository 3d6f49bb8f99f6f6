import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { z } from 'zod';
import { ConfigValidationError, parseOptions } from '../../config/index.js';
import { httpCheck, type HealthStatus } from '../../health/index.js';
import { RecoveryTimeoutError } from '../errors.js';
import { linkedController, raceAbort } from '../timing.js';
import type { SelfHealingComponent } from '../types.js';
import { originKey, takeOriginSockets, watchOrigin } from './undiciSockets.js';

/** Options of an {@link HttpPoolComponent}; every field is optional. */
export interface HttpPoolComponentOptions {
  /** The component's name. Default `scheme://host:port`, the name the health monitor and the breakers give the destination. */
  name?: string;
  dependsOn?: string[];
  /** node:http(s) agents whose sockets to the origin `restart` destroys. Default: `http.globalAgent` or `https.globalAgent`. */
  agents?: http.Agent[];
  /** Also destroy agent sockets with a request in flight: those requests fail at once instead of hanging on a dead peer. Default true. */
  destroyActive?: boolean;
  /** Also destroy the origin's undici (fetch) sockets. Default true. */
  undici?: boolean;
  /** What `checkHealth` requests: a path on the origin or an absolute URL; `false` for no `checkHealth`. Default `/`. */
  healthPath?: string | false;
  /** Request method of the check. Default `HEAD`. */
  method?: string;
  /** The status that counts as up, or a test of it. Default: any status below 500 (the destination answered). */
  expectStatus?: number | ((status: number) => boolean);
  /** Time the check may take, ms. Default 1000. */
  checkTimeoutMs?: number;
}

/** What the last `restart` destroyed. */
export interface PoolRestart {
  readonly timestamp: number;
  /** Idle keep-alive sockets of the agents. */
  readonly idle: number;
  /** Agent sockets with a request in flight. */
  readonly active: number;
  /** undici sockets (idle or busy). */
  readonly undici: number;
}

const optionsSchema = z
  .object({
    name: z.string({ error: 'must be a non-empty string' }).min(1, { error: 'must be a non-empty string' }).optional(),
    dependsOn: z.array(z.string()).optional(),
    agents: z.array(z.custom<http.Agent>((v) => v instanceof http.Agent, { error: 'must be an http.Agent or https.Agent' })).optional(),
    destroyActive: z.boolean({ error: 'must be true or false' }).optional(),
    undici: z.boolean({ error: 'must be true or false' }).optional(),
    healthPath: z.union([z.string(), z.literal(false)], { error: "must be a path such as '/health', a URL, or false" }).optional(),
    method: z.string().regex(/^[A-Za-z]+$/, { error: "must be an HTTP method such as 'HEAD' or 'GET'" }).optional(),
    expectStatus: z.unknown().optional(), // checked by httpCheck
    checkTimeoutMs: z.number().min(1, { error: 'must be at least 1 ms' }).max(2_147_483_647).optional(),
  })
  .strict();

function parseOrigin(origin: string | URL): URL {
  let u: URL | undefined;
  try {
    u = new URL(String(origin));
  } catch {
    u = undefined;
  }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) {
    throw new ConfigValidationError([{ path: 'httpPool.origin', message: `httpPool.origin must be an http:// or https:// origin, got ${JSON.stringify(String(origin))}` }]);
  }
  return u;
}

/**
 * An HTTP destination's connection pool as a recoverable component. `restart` destroys the
 * keep-alive sockets the process holds to the origin: idle and (by default) busy ones of the
 * node:http(s) agents, and those of undici clients (the global dispatcher behind `fetch`), so a
 * stale or half-dead pool (a peer that restarted, a NAT that forgot the flow) heals: the next
 * request opens a fresh connection. `checkHealth` sends one request on a connection of its own,
 * outside the breakers (see `httpCheck`).
 *
 * undici sockets are learnt from its `undici:client:connected` diagnostics channel from the
 * moment this component is made: create it at start-up, before the traffic. `close()` it when
 * done. The agents' sockets are found by the agent's pool names (`host:port:`), whenever opened.
 */
export class HttpPoolComponent implements SelfHealingComponent, Disposable {
  readonly name: string;
  readonly origin: string;
  readonly dependsOn?: readonly string[];
  readonly checkHealth?: (signal: AbortSignal) => Promise<HealthStatus>;
  /** What the last `restart` destroyed, for evidence. */
  lastRestart: PoolRestart | undefined;
  private readonly agents: readonly http.Agent[];
  private readonly destroyActive: boolean;
  private readonly poolPrefixes: readonly string[];
  private readonly undiciKey: string | undefined;
  private readonly unwatch: (() => void) | undefined;

  constructor(origin: string | URL, options: HttpPoolComponentOptions = {}) {
    const url = parseOrigin(origin);
    const o = parseOptions(optionsSchema, options, 'httpPool') as HttpPoolComponentOptions;
    const secure = url.protocol === 'https:';
    const port = url.port || (secure ? '443' : '80');
    const hostname = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    this.origin = url.origin;
    this.name = o.name ?? `${url.protocol}//${url.hostname.toLowerCase()}:${port}`;
    if (o.dependsOn) this.dependsOn = [...o.dependsOn];
    this.agents = o.agents ?? [secure ? https.globalAgent : http.globalAgent];
    this.destroyActive = o.destroyActive ?? true;
    // The agents' pool names: `host:port:` then local address, family… (Agent#getName). A request
    // made without a port is named with the default port (ClientRequest fills it in first).
    this.poolPrefixes = [`${hostname}:${port}:`];
    if (o.undici ?? true) {
      this.undiciKey = originKey(url.protocol, url.host);
      this.unwatch = watchOrigin(this.undiciKey);
    }
    if (o.healthPath !== false) {
      const check = httpCheck(new URL(o.healthPath ?? '/', url), {
        method: o.method ?? 'HEAD',
        expectStatus: (o.expectStatus as HttpPoolComponentOptions['expectStatus']) ?? ((s: number) => s < 500),
      });
      const timeoutMs = o.checkTimeoutMs ?? 1_000;
      this.checkHealth = async (signal) => {
        const link = linkedController(signal, timeoutMs, () => new RecoveryTimeoutError(timeoutMs));
        try {
          return (await check(link.signal)) as HealthStatus;
        } finally {
          link.dispose();
        }
      };
    }
  }

  /**
   * Destroys the origin's pooled sockets and resolves once they are closed (so they are out of
   * their pools); connections are made afresh by the next requests.
   */
  async restart(signal?: AbortSignal): Promise<void> {
    const idle: Socket[] = [];
    const active: Socket[] = [];
    for (const agent of this.agents) {
      this.collect(agent.freeSockets, idle);
      if (this.destroyActive) this.collect(agent.sockets, active);
    }
    const undici = this.undiciKey === undefined ? [] : takeOriginSockets(this.undiciKey);
    const all = [...idle, ...active, ...undici];
    const closed = Promise.all(all.map((s) => (s.closed ? undefined : new Promise((resolve) => s.once('close', resolve)))));
    for (const socket of all) socket.destroy();
    this.lastRestart = { timestamp: Date.now(), idle: idle.length, active: active.length, undici: undici.length };
    await (signal ? raceAbort(closed, signal) : closed);
  }

  /** Stops tracking the origin's undici sockets. */
  close(): void {
    this.unwatch?.();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** The open sockets of `pools` to this origin, by the agent's pool names. */
  private collect(pools: NodeJS.ReadOnlyDict<Socket[]>, into: Socket[]): void {
    for (const [name, list] of Object.entries(pools)) {
      if (!list || !this.poolPrefixes.some((p) => name.toLowerCase().startsWith(p))) continue;
      for (const socket of list) if (!socket.destroyed) into.push(socket);
    }
  }
}
