import { describe, expect, it } from 'vitest';
import { isMySqlFailure } from '../../instrumentations/mysql2/index.js';
import { callbackIndex, operationOf } from '../../instrumentations/mysql2/utils.js';
import { CircuitOpenError } from '../../src/breaker/index.js';

/** An error shaped as mysql2 makes them: Node's system errors, its protocol errors, server errors. */
const err = (fields: { code?: string; errno?: number; fatal?: boolean }, message = 'x') => Object.assign(new Error(message), fields);

describe('mysql2 default failure rule', () => {
  it.each([
    ['ECONNREFUSED', -111],
    ['ECONNRESET', -104],
    ['EPIPE', -32],
    ['ETIMEDOUT', undefined],
    ['EHOSTUNREACH', -113],
    ['ENOTFOUND', -3008],
    ['PROTOCOL_CONNECTION_LOST', undefined],
    ['PROTOCOL_SEQUENCE_TIMEOUT', undefined],
    ['ER_CON_COUNT_ERROR', 1040],
    ['ER_SERVER_SHUTDOWN', 1053],
    ['ER_TOO_MANY_USER_CONNECTIONS', 1203],
    ['ER_NET_READ_INTERRUPTED', 1159],
    ['ER_QUERY_TIMEOUT', 3024],
  ])('%s counts against the server', (code, errno) => {
    expect(isMySqlFailure(err({ code, ...(errno === undefined ? {} : { errno }), fatal: true }))).toBe(true);
  });

  it('MariaDB errors mysql2 has no name for count by number: connection killed, statement timeout, and too many connections without a code', () => {
    expect(isMySqlFailure(err({ errno: 1927 }))).toBe(true);
    expect(isMySqlFailure(err({ errno: 1969 }))).toBe(true);
    expect(isMySqlFailure(err({ errno: 1040 }))).toBe(true);
  });

  it.each([
    ['ER_PARSE_ERROR', 1064],
    ['ER_NO_SUCH_TABLE', 1146],
    ['ER_DUP_ENTRY', 1062],
    ['ER_BAD_FIELD_ERROR', 1054],
    ['ER_LOCK_DEADLOCK', 1213],
    ['ER_LOCK_WAIT_TIMEOUT', 1205],
    ['ER_ACCESS_DENIED_ERROR', 1045],
    ['ER_ACCESS_DENIED_NO_PASSWORD_ERROR', 1698],
    ['ER_DBACCESS_DENIED_ERROR', 1044],
    ['ER_BAD_DB_ERROR', 1049],
  ])('%s is the application own error, fatal or not', (code, errno) => {
    expect(isMySqlFailure(err({ code, errno }))).toBe(false);
    expect(isMySqlFailure(err({ code, errno, fatal: true }))).toBe(false);
  });

  it('a fatal error without a known code (a closed connection reused), a plain error and a breaker refusal do not count', () => {
    expect(isMySqlFailure(err({ fatal: true }, "Can't add new command when connection is in closed state"))).toBe(false);
    expect(isMySqlFailure(new Error('Pool is closed.'))).toBe(false);
    expect(isMySqlFailure(new CircuitOpenError('mysql://h:3306/db', 'open'))).toBe(false);
    expect(isMySqlFailure(Object.assign(new Error('outer'), { cause: new CircuitOpenError('b', 'open') }))).toBe(false);
  });
});

describe('mysql2 call arguments', () => {
  function args(..._a: unknown[]): IArguments {
    // eslint-disable-next-line prefer-rest-params
    return arguments;
  }
  const cb = () => undefined;

  it('finds the callback of query/execute in every form mysql2 accepts', () => {
    expect(callbackIndex(args('SELECT 1', cb))).toBe(1);
    expect(callbackIndex(args('SELECT ?', [1], cb))).toBe(2);
    expect(callbackIndex(args({ sql: 'SELECT 1' }, cb))).toBe(1);
    expect(callbackIndex(args({ sql: 'SELECT ?' }, undefined, cb))).toBe(2);
    expect(callbackIndex(args('SELECT 1'))).toBe(-1);
    expect(callbackIndex(args('SELECT ?', [1]))).toBe(-1);
    const command = { emit: cb, onResult: cb, sql: 'SELECT 1' };
    expect(callbackIndex(args(command))).toBe(0);
    expect(callbackIndex(args({ emit: cb, sql: 'SELECT 1' }))).toBe(-1);
  });

  it('names a refused call by its SQL verb only, never its text', () => {
    expect(operationOf('select * from users where password = "x"', 'QUERY')).toBe('SELECT');
    expect(operationOf('  \n\tInsert into t values (1)', 'QUERY')).toBe('INSERT');
    expect(operationOf({ sql: 'UPDATE t SET a = 1' }, 'EXECUTE')).toBe('UPDATE');
    expect(operationOf(`${' '.repeat(100)}SELECT 1`, 'QUERY')).toBe('QUERY');
    expect(operationOf('/* comment */ SELECT 1', 'QUERY')).toBe('QUERY');
    expect(operationOf(undefined, 'EXECUTE')).toBe('EXECUTE');
    expect(operationOf(42, 'QUERY')).toBe('QUERY');
  });
});
