import { createRequire } from 'node:module';
import { ReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { isRedisFailure } from '../../instrumentations/ioredis/index.js';
import { CircuitOpenError } from '../../src/breaker/index.js';

// The error classes ioredis itself throws (no exports map: the built files load by path).
const req = createRequire(import.meta.url);
const MaxRetriesPerRequestError = (req('ioredis/built/errors/MaxRetriesPerRequestError.js') as { default: new (n: number) => Error }).default;
const { AbortError } = req('redis-errors') as { AbortError: new (message: string) => Error };

const reply = (message: string): Error => new (ReplyError as new (m: string) => Error)(message);
const system = (code: string): Error => Object.assign(new Error(`connect ${code} 127.0.0.1:6379`), { code, syscall: 'connect' });

describe('isRedisFailure (the default ioredis rule)', () => {
  it('counts lost or refused connections and ioredis’ own timeouts and retry limits', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']) {
      expect(isRedisFailure(system(code)), code).toBe(true);
    }
    expect(isRedisFailure(new Error('Connection is closed.'))).toBe(true);
    expect(isRedisFailure(new Error("Stream isn't writeable and enableOfflineQueue options is false"))).toBe(true);
    expect(isRedisFailure(new Error('Command timed out'))).toBe(true);
    expect(isRedisFailure(new Error("Socket timeout. Expecting data, but didn't receive any in 500ms."))).toBe(true);
    expect(isRedisFailure(new MaxRetriesPerRequestError(0))).toBe(true);
    expect(isRedisFailure(new AbortError('Command aborted due to connection close'))).toBe(true);
  });

  it('counts a server that cannot serve anyone now', () => {
    for (const m of [
      'LOADING Redis is loading the dataset in memory',
      'MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no.',
      "READONLY You can't write against a read only replica.",
      'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.',
      'TRYAGAIN Multiple keys request during rehashing of slot',
      'CLUSTERDOWN The cluster is down',
      'NOREPLICAS Not enough good replicas to write.',
      'MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk.',
      "OOM command not allowed when used memory > 'maxmemory'.",
      'ERR max number of clients reached',
    ]) {
      expect(isRedisFailure(reply(m)), m).toBe(true);
    }
  });

  it("never counts the application's errors, credentials, or a refusal by a breaker", () => {
    for (const m of [
      'WRONGTYPE Operation against a key holding the wrong kind of value',
      'ERR syntax error',
      "ERR unknown command 'NOSUCHCOMMAND', with args beginning with: ",
      "ERR wrong number of arguments for 'get' command",
      'ERR value is not an integer or out of range',
      'NOSCRIPT No matching script. Please use EVAL.',
      'EXECABORT Transaction discarded because of previous errors.',
      'BUSYKEY Target key name already exists.',
      'BUSYGROUP Consumer Group name already exists',
      'NOAUTH Authentication required.',
      'WRONGPASS invalid username-password pair or user is disabled.',
      "NOPERM this user has no permissions to run the 'get' command",
    ]) {
      expect(isRedisFailure(reply(m)), m).toBe(false);
    }
    expect(isRedisFailure(new Error('Connection in subscriber mode, only subscriber commands may be used'))).toBe(false);
    expect(isRedisFailure(CircuitOpenError.withoutStack('redis://127.0.0.1:6379/0', 'open'))).toBe(false);
  });
});
