/**
 * The `Referer` a browser sends by default (Referrer Policy `strict-origin-when-cross-origin`): the whole page URL
 * (no fragment, no credentials) to its own origin, only the origin across origins, nothing from https to http.
 * Fetch computes it again on every redirect hop, from the referring page and the hop's URL: a crawl's link that
 * redirects to another site must not carry the page's path and query there (fetch/redirects.ts).
 */
export function refererFor(page: string, target: URL): string | null {
  let from: URL;
  try {
    from = new URL(page);
  } catch {
    return null;
  }
  if (from.protocol === 'https:' && target.protocol === 'http:') return null;
  if (from.origin !== target.origin) return `${from.origin}/`;
  from.username = '';
  from.password = '';
  from.hash = '';
  return from.href;
}
