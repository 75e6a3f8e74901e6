import type { NormalizedExtract } from './spec.js';
import type { ParsedFields } from './types.js';
import type { RawFields } from './stream.js';
import { canonicalHttp } from './links.js';
import { joinRobotsContents } from './meta-robots.js';

// The clean-up of the built-in fields that the scan (extract.ts), the DOM path (extract-dom.ts) and the main
// thread's head read (head-fields.ts) share. Both parser bundles hold a copy (scripts/bundle.mjs), and so does the
// main thread's code.

/** Raw fields before anything is found: where the scan (stream.ts) and the main thread's head read start. */
export function noRawFields(): RawFields {
  return {
    title: undefined,
    descriptionFound: false,
    description: undefined,
    canonical: undefined,
    lang: undefined,
    base: undefined,
    hrefs: [],
    robots: [],
  };
}

/** css-select's `[name="description" i]` (attributes.js `equals`, case-insensitive): which meta is the description. */
export function isDescription(name: string | undefined): boolean {
  return name != null && name.length === 11 && name.toLowerCase() === 'description';
}

/** Whitespace as HTML's "strip and collapse ASCII whitespace" does it, for titles and text. */
export function collapse(text: string): string {
  return text.replace(/[\t\n\f\r ]+/g, ' ').trim();
}

/** `href` resolved against `base` when it makes an http(s) URL; null otherwise (absent, invalid, another scheme). */
export function resolveHttp(href: string | undefined, base: URL): string | null {
  if (href === undefined) return null;
  try {
    const u = new URL(href.trim(), base);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    return u.href;
  } catch {
    return null;
  }
}

/** The document base URL: the first <base href> resolved against the page URL (HTML §4.2.3); a bad one is ignored. */
export function documentBase(href: string | undefined, pageUrl: string): URL {
  const page = new URL(pageUrl);
  if (href === undefined) return page;
  try {
    return new URL(href.trim(), page);
  } catch {
    return page;
  }
}

/** The built-in fields from their raw values: the clean-up both paths share (whitespace, URL resolution). */
export function fieldsFrom(raw: RawFields, pageUrl: string, spec: NormalizedExtract): ParsedFields {
  const fields: ParsedFields = { title: null, description: null };
  const base = spec.links || spec.canonical ? documentBase(raw.base, pageUrl) : null;
  if (spec.title) fields.title = raw.title === undefined ? null : collapse(raw.title);
  if (spec.description) fields.description = raw.description === undefined ? null : collapse(raw.description);
  if (spec.canonical) fields.canonical = resolveHttp(raw.canonical, base as URL);
  if (spec.lang) fields.lang = raw.lang?.trim() || null;
  if (spec.links) fields.links = absoluteLinks(raw.hrefs, base as URL);
  if (spec.metaRobots) fields.metaRobots = joinRobotsContents(raw.robots);
  return fields;
}

/** hrefs as `links` gives them: absolute http(s) URLs without their fragment, de-duplicated, in order. */
export function absoluteLinks(hrefs: readonly string[], base: URL): string[] {
  const seen = new Set<string>();
  for (const href of hrefs) {
    // An absolute URL already in its serialised form needs no parsing (canonicalHttp: fragment already dropped).
    const fast = canonicalHttp(href.trim());
    if (fast !== null) {
      seen.add(fast);
      continue;
    }
    const abs = resolveHttp(href, base);
    if (abs === null) continue;
    // Fragments name a spot on a page, not another page.
    const hash = abs.indexOf('#');
    const link = hash === -1 ? abs : abs.slice(0, hash);
    seen.add(link);
  }
  return [...seen];
}
