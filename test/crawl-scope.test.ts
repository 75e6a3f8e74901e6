import { describe, expect, it } from 'vitest';
import { canonicalKey, inScope, registrableDomain, type CrawlScope } from '../src/crawl/scope.js';

const within = (link: string, seed: string, scope: CrawlScope): boolean => inScope(new URL(link), new URL(seed), scope);

describe('inScope', () => {
  it('host: the same host name, any scheme or port, not a sibling subdomain', () => {
    expect(within('http://www.example.com:8080/x', 'https://www.example.com/', 'host')).toBe(true);
    expect(within('https://WWW.Example.COM/x', 'https://www.example.com/', 'host')).toBe(true);
    expect(within('https://example.com./x', 'https://example.com/', 'host')).toBe(true);
    expect(within('https://blog.example.com/', 'https://www.example.com/', 'host')).toBe(false);
    expect(within('https://example.com/', 'https://www.example.com/', 'host')).toBe(false);
  });

  it('origin: scheme, host and port all equal', () => {
    expect(within('https://example.com/a?b', 'https://example.com/', 'origin')).toBe(true);
    expect(within('https://example.com:443/a', 'https://example.com/', 'origin')).toBe(true); // default port
    expect(within('http://example.com/a', 'https://example.com/', 'origin')).toBe(false);
    expect(within('https://example.com:8443/a', 'https://example.com/', 'origin')).toBe(false);
    expect(within('https://www.example.com/', 'https://example.com/', 'origin')).toBe(false);
  });

  it('domain: the registrable domain by the Public Suffix List', () => {
    expect(within('https://a.example.co.uk/', 'https://b.example.co.uk/', 'domain')).toBe(true);
    expect(within('http://example.co.uk:81/', 'https://www.example.co.uk/', 'domain')).toBe(true);
    expect(within('https://other.co.uk/', 'https://example.co.uk/', 'domain')).toBe(false);
    expect(within('https://shop.example.com/', 'https://www.example.com/', 'domain')).toBe(true);
    expect(within('https://example.org/', 'https://example.com/', 'domain')).toBe(false);
  });

  it('domain: a private-section suffix (github.io) separates its sites', () => {
    expect(within('https://foo.github.io/', 'https://bar.github.io/', 'domain')).toBe(false);
    expect(within('https://docs.foo.github.io/', 'https://foo.github.io/', 'domain')).toBe(true);
    expect(registrableDomain('foo.github.io')).toBe('foo.github.io');
  });

  it('domain: IP addresses and hosts with no registrable domain compare by host', () => {
    expect(within('http://127.0.0.1:8080/', 'http://127.0.0.1/', 'domain')).toBe(true);
    expect(within('http://127.0.0.2/', 'http://127.0.0.1/', 'domain')).toBe(false);
    expect(within('http://0x7f.1/', 'http://127.0.0.1/', 'domain')).toBe(true); // WHATWG normalises IPv4 forms
    expect(within('http://[::1]:81/', 'http://[0:0::1]/', 'domain')).toBe(true);
    expect(within('http://[::2]/', 'http://[::1]/', 'domain')).toBe(false);
    expect(within('http://localhost:3000/', 'http://localhost/', 'domain')).toBe(true);
    expect(within('http://other/', 'http://localhost/', 'domain')).toBe(false);
    // No octet of 10.0.0.1 is a "registrable domain" 0.1
    expect(within('http://10.0.0.1/', 'http://192.168.0.1/', 'domain')).toBe(false);
  });

  it('domain and host: IDNs compare in punycode, whichever way they were written', () => {
    expect(within('https://www.bücher.example/', 'https://xn--bcher-kva.example/', 'domain')).toBe(true);
    expect(within('https://bücher.example/', 'https://xn--bcher-kva.example/', 'host')).toBe(true);
  });

  it('ports: host and domain ignore them, origin does not', () => {
    expect(within('http://example.com:1234/', 'http://example.com/', 'host')).toBe(true);
    expect(within('http://example.com:1234/', 'http://example.com/', 'domain')).toBe(true);
    expect(within('http://example.com:1234/', 'http://example.com/', 'origin')).toBe(false);
  });

  it('all: anything; opaque origins are never host or origin scope', () => {
    expect(within('https://elsewhere.test/', 'https://example.com/', 'all')).toBe(true);
    expect(within('mailto:a@example.com', 'https://example.com/', 'origin')).toBe(false);
    expect(within('data:text/plain,x', 'data:text/plain,x', 'origin')).toBe(false);
    expect(within('data:text/plain,x', 'data:text/plain,y', 'host')).toBe(false);
  });

  it('rejects an unknown scope naming the value', () => {
    expect(() => within('https://a/', 'https://a/', 'site' as CrawlScope)).toThrow('Expected `scope` to be one of host, domain, origin, all, got `site` (string)');
  });
});

describe('canonicalKey', () => {
  it('drops the fragment and nothing else', () => {
    expect(canonicalKey('https://example.com/a?b=1#top')).toBe('https://example.com/a?b=1');
    expect(canonicalKey('https://example.com/a#')).toBe('https://example.com/a');
    expect(canonicalKey(new URL('HTTPS://Example.com:443/a/../b?q#x'))).toBe('https://example.com/b?q');
    expect(canonicalKey('https://example.com/?b=2&a=1')).toBe('https://example.com/?b=2&a=1');
  });

  it("keeps a '#' that is data (percent-encoded by the serialiser) and cuts at the real fragment", () => {
    const url = new URL('https://example.com/');
    url.pathname = '/a#b';
    url.search = '?c#d';
    expect(canonicalKey(url)).toBe('https://example.com/a%23b?c%23d');
    expect(canonicalKey('https://example.com/p?x#f#g')).toBe('https://example.com/p?x');
  });

  it('gives the same key to the same resource written two ways', () => {
    expect(canonicalKey('http://EXAMPLE.com:80/%7efoo')).toBe(canonicalKey('http://example.com/%7efoo#bar'));
  });

  it('throws the URL parser error for a string that is not a URL', () => {
    expect(() => canonicalKey('not a url')).toThrow(TypeError);
  });
});

