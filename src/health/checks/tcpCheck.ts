import net from 'node:net';
import { z } from 'zod';
import { parseOptions } from '../../config/index.js';
import { HEALTHY, type HealthStatus } from '../types.js';
import { failed, reasonOf } from './reading.js';
import type { HealthCheck } from './types.js';
import { runUnguarded } from './unguarded.js';

const targetSchema = z.object({
  host: z.string({ error: 'must be a host name or IP address' }).min(1, { error: 'must be a host name or IP address' }),
  port: z
    .number({ error: 'must be a TCP port (1 to 65535)' })
    .int({ error: 'must be a whole TCP port (1 to 65535)' })
    .min(1, { error: 'must be a TCP port (1 to 65535)' })
    .max(65_535, { error: 'must be a TCP port (1 to 65535)' }),
});

/**
 * A check that opens a TCP connection to `host:port` and closes it as soon as it is up: healthy
 * when the connection is accepted, failed with the connect error (or the abort reason) otherwise.
 * Nothing is written to the socket.
 */
export function tcpCheck(host: string, port: number): HealthCheck {
  parseOptions(targetSchema, { host, port }, 'tcpCheck');
  const label = `tcp ${host.includes(':') ? `[${host}]` : host}:${port}`;

  return (signal) =>
    new Promise<HealthStatus>((resolve) => {
      if (signal.aborted) return resolve(failed(`${label}: ${reasonOf(signal.reason)}`));
      const socket = runUnguarded(() => net.connect({ host, port }));
      const done = (status: HealthStatus): void => {
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
        resolve(status);
      };
      const onAbort = (): void => done(failed(`${label}: ${reasonOf(signal.reason)}`));
      socket.on('connect', () => done(HEALTHY));
      socket.on('error', (err) => done(failed(`${label}: ${reasonOf(err)}`)));
      signal.addEventListener('abort', onAbort, { once: true });
    });
}
