import { describe, expect, it } from 'vitest';
import { FetchError } from '../src/errors.js';
import { BODY_HEADERS, nextHop, redirectMethod, withoutBodyHeaders } from '../src/fetch/redirects.js';
import { METHODS, type Method } from '../src/source/requests.js';

describe('redirectMethod: the Fetch standard\'s method and body rules', () => {
  // [status, method before, method after, body kept (when there was one)]
  it.each<[number, Method, Method, boolean]>([
    [301, 'POST', 'GET', false],
    [302, 'POST', 'GET', false],
    [303, 'POST', 'GET', false],
    [307, 'POST', 'POST', true],
    [308, 'POST', 'POST', true],
    [301, 'PUT', 'PUT', true],
    [302, 'PATCH', 'PATCH', true],
    [302, 'DELETE', 'DELETE', true],
    [303, 'PUT', 'GET', false],
    [303, 'PATCH', 'GET', false],
    [303, 'DELETE', 'GET', false],
    [303, 'OPTIONS', 'GET', false],
    [307, 'PUT', 'PUT', true],
    [308, 'PATCH', 'PATCH', true],
  ])('%i turns %s into %s (body kept: %s)', (status, before, after, keep) => {
    expect(redirectMethod(status, before, true)).toEqual({ method: after, keepBody: keep });
    expect(redirectMethod(status, before, false)).toEqual({ method: after, keepBody: false });
  });

  it.each([301, 302, 303, 307, 308])('keeps GET and HEAD on %i', (status) => {
    expect(redirectMethod(status, 'GET', false)).toEqual({ method: 'GET', keepBody: false });
    expect(redirectMethod(status, 'HEAD', false)).toEqual({ method: 'HEAD', keepBody: false });
  });

  it('changes nothing for a status that is not a redirect', () => {
    for (const method of METHODS) expect(redirectMethod(300, method, true)).toEqual({ method, keepBody: true });
  });
});

describe('withoutBodyHeaders', () => {
  it('drops the headers that describe a body, in any case, and keeps the rest', () => {
    const headers = {
      'Content-Type': 'application/json',
      'content-length': '2',
      'Content-Encoding': 'gzip',
      'content-language': 'en',
      'Content-Location': '/x',
      authorization: 'Bearer t',
      'user-agent': 'volley',
    };
    expect(withoutBodyHeaders(headers)).toEqual({ authorization: 'Bearer t', 'user-agent': 'volley' });
    expect(headers['Content-Type']).toBe('application/json');
    expect([...BODY_HEADERS]).toHaveLength(5);
  });

  it('returns the same object when there is nothing to drop', () => {
    const headers = { accept: '*/*' };
    expect(withoutBodyHeaders(headers)).toBe(headers);
  });
});

describe('nextHop (unchanged contract)', () => {
  const here = new URL('https://a.test/dir/page?q=1');

  it('resolves a relative Location against the URL that answered and drops the fragment', () => {
    const hop = nextHop(here, '../other#frag', { accept: '*/*' });
    expect(hop).not.toBeInstanceOf(FetchError);
    expect((hop as { url: URL }).url.href).toBe('https://a.test/other');
  });

  it('keeps credentials on the same origin and drops them on another', () => {
    const headers = { Authorization: 'Bearer t', cookie: 'c=1', 'proxy-authorization': 'x', 'x-keep': 'k' };
    expect(nextHop(here, '/next', headers)).toMatchObject({ headers });
    expect(nextHop(here, 'https://b.test/', headers)).toMatchObject({ headers: { 'x-keep': 'k' } });
  });

  it('refuses a Location that is not http(s) or not a URL', () => {
    expect(nextHop(here, 'ftp://a.test/f', {})).toMatchObject({ code: 'UNSUPPORTED_SCHEME' });
    expect(nextHop(here, 'http://[bad', {})).toMatchObject({ code: 'INVALID_URL' });
  });
});
