import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CircuitOpenError } from '../../src/breaker/index.js';
import { isPgFailure } from '../../instrumentations/pg/failure.js';
import { operationOf } from '../../instrumentations/pg/query.js';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isPgFailure (the default pg rule)', () => {
  it.each([
    ['ECONNREFUSED'],
    ['ECONNRESET'],
    ['EPIPE'],
    ['ETIMEDOUT'],
    ['EHOSTUNREACH'],
    ['ENOTFOUND'],
    ['08006'], // connection failure
    ['08001'], // cannot establish
    ['57P01'], // admin shutdown
    ['57P02'], // crash shutdown
    ['57P03'], // cannot connect now
    ['53300'], // too many connections
    ['53200'], // out of memory
    ['XX000'], // internal error
  ])('counts %s', (code) => {
    expect(isPgFailure(withCode(code))).toBe(true);
  });

  it.each([
    ['Connection terminated unexpectedly'],
    ['Connection terminated due to connection timeout'],
    ['timeout exceeded when trying to connect'],
    ['timeout expired'],
    ['Query read timeout'],
    ['Client has encountered a connection error and is not queryable'],
  ])('counts pg’s own "%s"', (message) => {
    expect(isPgFailure(new Error(message))).toBe(true);
  });

  it('counts a statement timeout but not a cancel the application asked for (both 57014)', () => {
    expect(isPgFailure(withCode('57014', 'canceling statement due to statement timeout'))).toBe(true);
    expect(isPgFailure(withCode('57014', 'canceling statement due to user request'))).toBe(false);
  });

  it.each([
    ['42601', 'syntax error'],
    ['42P01', 'unknown table'],
    ['23505', 'unique violation'],
    ['22012', 'division by zero'],
    ['28P01', 'wrong password'],
    ['28000', 'unknown role'],
    ['3D000', 'unknown database'],
    ['40001', 'serialization failure'],
    ['40P01', 'deadlock'],
    ['55P03', 'lock timeout'],
  ])('does not count %s (%s)', (code) => {
    expect(isPgFailure(withCode(code))).toBe(false);
  });

  it('does not count a refusal, nor pg’s errors about the application’s own use of a client', () => {
    expect(isPgFailure(new CircuitOpenError('postgresql://h:5432/db', 'open'))).toBe(false);
    expect(isPgFailure(new Error('Connection terminated'))).toBe(false); // after the app's own end()
    expect(isPgFailure(new Error('Client was closed and is not queryable'))).toBe(false);
    expect(isPgFailure(new Error('Client has already been connected. You cannot reuse a client.'))).toBe(false);
    expect(isPgFailure(new TypeError('Invalid URL'))).toBe(false);
  });

  it('looks through cause and AggregateError', () => {
    expect(isPgFailure(new Error('Connection terminated due to connection timeout', { cause: new Error('timeout expired') }))).toBe(true);
    expect(isPgFailure(new Error('wrapped', { cause: withCode('ECONNREFUSED') }))).toBe(true);
    expect(isPgFailure(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')], 'all failed'))).toBe(true);
    expect(isPgFailure(new Error('wrapped', { cause: withCode('42601') }))).toBe(false);
  });

  it('never throws and never counts the application’s SQLSTATE classes, whatever the message', () => {
    const appClass = fc.constantFrom('22', '23', '25', '28', '2B', '3D', '40', '42', '44', '55', 'P0');
    const code = fc.tuple(appClass, fc.stringMatching(/^[0-9A-Z]{3}$/)).map(([c, rest]) => c + rest);
    fc.assert(
      fc.property(code, fc.string(), (c, message) => {
        expect(isPgFailure(withCode(c, message.includes('timeout') ? 'x' : message))).toBe(false);
      }),
    );
    fc.assert(
      fc.property(fc.anything(), (value) => {
        expect(typeof isPgFailure(value as Error)).toBe('boolean');
      }),
    );
  });
});

describe('operationOf (the operation of a refused query)', () => {
  it('takes the SQL command, upper-cased, from text or a config object', () => {
    expect(operationOf('select 1')).toBe('SELECT');
    expect(operationOf('\n  Insert into t values (1)')).toBe('INSERT');
    expect(operationOf({ text: 'WITH x AS (SELECT 1) SELECT * FROM x' })).toBe('WITH');
    expect(operationOf({ name: 'prepared' })).toBe('query');
    expect(operationOf('')).toBe('query');
    expect(operationOf('  ')).toBe('query');
  });
});
