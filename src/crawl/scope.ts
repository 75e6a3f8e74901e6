import { getDomain } from 'tldts';
import { CRAWL_SCOPES, type CrawlScope } from './follow-options.js';

export { CRAWL_SCOPES, type CrawlScope };


/**
 * Whether a link found on a page is inside the crawl's scope around its seed. Both are parsed WHATWG URLs, so host
 * names are already lower-case and IDNs punycode. Host names compare without one trailing dot (`example.com.` is
 * `example.com` in DNS). A host with no registrable domain (an IP address, `localhost`, a bare public suffix)
 * compares by host name under `domain`. URLs with an opaque origin (`data:`, `mailto:`) are never in `origin` or
 * `host` scope; the scheme check (http/https) is the caller's, as for every URL.
 */
export function inScope(link: URL, seed: URL, scope: CrawlScope): boolean {
  switch (scope) {
    case 'all':
      return true;
    case 'origin':
      return link.origin !== 'null' && link.origin === seed.origin;
    case 'host':
      return link.hostname !== '' && bareHost(link.hostname) === bareHost(seed.hostname);
    case 'domain':
      return link.hostname !== '' && registrableDomain(link.hostname) === registrableDomain(seed.hostname);
    default:
      throw new TypeError(`Expected \`scope\` to be one of ${CRAWL_SCOPES.join(', ')}, got \`${String(scope)}\` (${typeof scope})`);
  }
}

/** The eTLD+1 of a WHATWG host name, or the host name itself when it has none (IP, `localhost`, a public suffix). */
export function registrableDomain(hostname: string): string {
  const host = bareHost(hostname);
  if (host.startsWith('[') || isIPv4(host)) return host;
  return getDomain(host, { allowPrivateDomains: true, extractHostname: false, validateHostname: false }) ?? host;
}

/**
 * The key a URL has in the seen set: its WHATWG serialisation without the fragment (`#part` names a place in the
 * same document, never another request). Nothing else is changed: query order, a trailing slash, `index.html`
 * and case in paths can all name different resources. Throws the URL parser's TypeError for an invalid string.
 */
export function canonicalKey(url: URL | string): string {
  const href = typeof url === 'string' ? new URL(url).href : url.href;
  // The serialiser percent-encodes '#' everywhere but the fragment delimiter, so the first '#' is that delimiter.
  const hash = href.indexOf('#');
  return hash === -1 ? href : href.slice(0, hash);
}

function bareHost(hostname: string): string {
  return hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
}

/** A WHATWG-parsed IPv4 host: the parser turns any host whose last label is numeric into dotted-decimal. */
function isIPv4(host: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(host);
}
