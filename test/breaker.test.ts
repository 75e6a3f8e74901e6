import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/errors.js';
import { HOST_FAILURE_CODES, HostBreaker, hostSkippedError, hostSkippedMessage } from '../src/schedule/breaker.js';

const HOST = '127.0.0.1:8080';

describe('HostBreaker: the dead-host circuit breaker', () => {
  it('skips a host after N consecutive CONNECT, DNS, TIMEOUT, TLS or RESET failures', () => {
    const breaker = new HostBreaker(5);
    const codes = ['CONNECT', 'DNS', 'TLS', 'RESET'] as const;
    for (const code of codes) expect(breaker.record(HOST, code)).toBe(false);
    expect(breaker.skipped(HOST)).toBeNull();
    expect(breaker.record(HOST, 'TIMEOUT')).toBe(true);
    expect(breaker.skipped(HOST)).toEqual({ failures: 5, lastCode: 'TIMEOUT' });
  });

  it('counts exactly those five codes', () => {
    expect([...HOST_FAILURE_CODES].sort()).toEqual(['CONNECT', 'DNS', 'RESET', 'TIMEOUT', 'TLS']);
  });

  it('resets the count on any response, whatever its status', () => {
    const breaker = new HostBreaker(3);
    breaker.record(HOST, 'TIMEOUT');
    breaker.record(HOST, 'TIMEOUT');
    breaker.record(HOST, 'response');
    breaker.record(HOST, 'TIMEOUT');
    breaker.record(HOST, 'TIMEOUT');
    expect(breaker.skipped(HOST)).toBeNull();
    expect(breaker.record(HOST, 'TIMEOUT')).toBe(true);
    expect(breaker.skipped(HOST)).toEqual({ failures: 3, lastCode: 'TIMEOUT' });
  });

  it('leaves the count alone on codes that are about one URL, not the host', () => {
    const breaker = new HostBreaker(3);
    breaker.record(HOST, 'CONNECT');
    breaker.record(HOST, 'CONNECT');
    for (const code of ERROR_CODES.filter((c) => !HOST_FAILURE_CODES.has(c))) expect(breaker.record(HOST, code)).toBe(false);
    expect(breaker.skipped(HOST)).toBeNull();
    expect(breaker.record(HOST, 'CONNECT')).toBe(true);
  });

  it('keeps a skipped host skipped for the rest of the run, and trips it once', () => {
    const breaker = new HostBreaker(2);
    breaker.record(HOST, 'RESET');
    expect(breaker.record(HOST, 'CONNECT')).toBe(true);
    expect(breaker.record(HOST, 'response')).toBe(false);
    expect(breaker.record(HOST, 'TIMEOUT')).toBe(false);
    expect(breaker.skipped(HOST)).toEqual({ failures: 2, lastCode: 'CONNECT' });
  });

  it('counts each host (hostname:port) on its own', () => {
    const breaker = new HostBreaker(2);
    breaker.record('a.test:80', 'DNS');
    breaker.record('a.test:8080', 'DNS');
    breaker.record('b.test:443', 'TLS');
    expect(breaker.skipped('a.test:80')).toBeNull();
    breaker.record('b.test:443', 'TLS');
    breaker.record('a.test:80', 'DNS');
    expect(breaker.skippedHosts()).toEqual([
      { host: 'b.test:443', failures: 2, lastCode: 'TLS' },
      { host: 'a.test:80', failures: 2, lastCode: 'DNS' },
    ]);
    expect(breaker.skipped('a.test:8080')).toBeNull();
  });

  it('keeps only hosts with a failure streak or skipped', () => {
    const breaker = new HostBreaker(3);
    for (let i = 0; i < 1000; i++) breaker.record(`ok${i}.test:443`, 'response');
    for (let i = 0; i < 1000; i++) breaker.record(`url${i}.test:443`, 'HTTP_STATUS');
    expect(breaker.size).toBe(0);
    breaker.record('flaky.test:443', 'RESET');
    breaker.record('dead.test:443', 'CONNECT');
    breaker.record('dead.test:443', 'CONNECT');
    breaker.record('dead.test:443', 'CONNECT');
    expect(breaker.size).toBe(2);
    breaker.record('flaky.test:443', 'response');
    expect(breaker.size).toBe(1);
  });

  it('trips on the first failure with N = 1', () => {
    const breaker = new HostBreaker(1);
    expect(breaker.record(HOST, 'DNS')).toBe(true);
    expect(breaker.skipped(HOST)).toEqual({ failures: 1, lastCode: 'DNS' });
  });

  it('is off with 0: nothing is counted or skipped', () => {
    const breaker = new HostBreaker(0);
    expect(breaker.enabled).toBe(false);
    for (let i = 0; i < 100; i++) expect(breaker.record(HOST, 'TIMEOUT')).toBe(false);
    expect(breaker.skipped(HOST)).toBeNull();
    expect(breaker.skippedHosts()).toEqual([]);
  });

  it('hands out copies: the caller cannot change what it keeps', () => {
    const breaker = new HostBreaker(1);
    breaker.record(HOST, 'RESET');
    const trip = breaker.skipped(HOST)!;
    trip.failures = 99;
    expect(breaker.skipped(HOST)).toEqual({ failures: 1, lastCode: 'RESET' });
  });

  it('rejects a maxHostErrors that is not an integer from 0 up', () => {
    expect(() => new HostBreaker(-1)).toThrow(new RangeError('Expected `maxHostErrors` to be an integer from 0 and up, got `-1` (number)'));
    expect(() => new HostBreaker(1.5)).toThrow(RangeError);
    expect(() => new HostBreaker(Number.NaN)).toThrow(RangeError);
    expect(() => new HostBreaker('10' as unknown as number)).toThrow('got `10` (string)');
  });
});

describe('HOST_SKIPPED', () => {
  it('is a stable error code', () => {
    expect(ERROR_CODES).toContain('HOST_SKIPPED');
  });

  it('says how many consecutive failures and the last code', () => {
    expect(hostSkippedMessage(HOST, { failures: 10, lastCode: 'TIMEOUT' })).toBe('host 127.0.0.1:8080 skipped after 10 consecutive failures (last: TIMEOUT)');
    expect(hostSkippedMessage(HOST, { failures: 1, lastCode: 'DNS' })).toBe('host 127.0.0.1:8080 skipped after 1 consecutive failure (last: DNS)');
  });

  it('builds the FetchError a skipped host\'s URLs fail with: no status', () => {
    const error = hostSkippedError(HOST, { failures: 3, lastCode: 'CONNECT' });
    expect(error).toMatchObject({ code: 'HOST_SKIPPED', status: null, message: 'host 127.0.0.1:8080 skipped after 3 consecutive failures (last: CONNECT)' });
  });
});
