import { createHash } from 'node:crypto';

/** The fingerprint `dedupe` compares: method, URL (without its fragment) and a hash of the body. 22 characters. */
export function fingerprint(item: { url: string; method?: string; body?: string | Uint8Array | URLSearchParams | null; json?: unknown }): string {
  let url = item.url.trim();
  try {
    const parsed = new URL(url);
    parsed.hash = '';
    url = parsed.href;
  } catch {
    // not a URL: its text is its key
  }
  const body = item.json !== undefined ? JSON.stringify(item.json) : item.body instanceof URLSearchParams ? item.body.toString() : (item.body ?? '');
  const bodyHash = createHash('sha256').update(body).digest('base64url');
  return createHash('sha256')
    .update(`${(item.method ?? 'GET').toUpperCase()}\n${url}\n${bodyHash}`)
    .digest('base64url')
    .slice(0, 22);
}
