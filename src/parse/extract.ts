import * as cheerio from 'cheerio/slim';
import { select } from 'cheerio-select';
import { compile, selectAll, selectOne } from 'css-select';
import type { AnyNode, Document, Element } from 'domhandler';
import { parsePage } from './document.js';
import type { NormalizedExtract } from './spec.js';
import type { ParsedFields } from './types.js';
import { scanPage, type Feed, type RawFields } from './stream.js';
import { decodeHtmlPieces, PIECE_BYTES } from './decode.js';
import { canonicalHttp } from './links.js';
import { joinRobotsContents, isRobotsName } from './meta-robots.js';
import { followHrefs } from './follow.js';

/** Whitespace as HTML's "strip and collapse ASCII whitespace" does it, for titles and text. */
function collapse(text: string): string {
  return text.replace(/[\t\n\f\r ]+/g, ' ').trim();
}

function resolveHttp(href: string | undefined, base: URL): string | null {
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
function documentBase(href: string | undefined, pageUrl: string): URL {
  const page = new URL(pageUrl);
  if (href === undefined) return page;
  try {
    return new URL(href.trim(), page);
  } catch {
    return page;
  }
}

/** The built-in fields' selectors, compiled once per thread (compiling costs more than matching on a small page). */
const compiled = (css: string) => compile<AnyNode, Element>(css, { xmlMode: false });
const QUERY = {
  base: compiled('base[href]'),
  title: compiled('title'),
  description: compiled('meta[name="description" i]'),
  canonical: compiled('link[rel~="canonical" i][href]'),
  html: compiled('html'),
  baseAndLinks: compiled('base[href], a[href], area[href]'),
  // Every meta with a name; stream.ts tests the name itself (isRobotsName), so both paths use one definition.
  namedMeta: compiled('meta[name]'),
};

/**
 * One cheerio for the thread, not one per page (`load` builds a new API object each time): text is read
 * through it from nodes of any document, and user selectors run from the page's own root.
 */
const $ = cheerio.load([]);
const text = (el: Element): string => collapse($(el).text());


/**
 * The raw built-in fields from a DOM: cheerio's selector engine (css-select) with precompiled queries;
 * `selectOne` stops at the first match. Only what `spec` asks for is looked up.
 */
function rawFromDom(dom: Document, spec: NormalizedExtract): RawFields {
  const first = (query: (typeof QUERY)[keyof typeof QUERY]): Element | undefined => selectOne<AnyNode, Element>(query, dom) ?? undefined;
  const raw: RawFields = { title: undefined, descriptionFound: false, description: undefined, canonical: undefined, lang: undefined, base: undefined, hrefs: [], robots: [] };
  // Only links and canonical need the base URL. Finding <base> costs a walk of the whole DOM (a page rarely has
  // one), so with links it comes from the same walk: one selector list, matches in document order.
  if (spec.links) {
    for (const el of selectAll<AnyNode, Element>(QUERY.baseAndLinks, dom)) {
      if (el.name !== 'base') raw.hrefs.push(el.attribs.href as string);
      else raw.base ??= el.attribs.href;
    }
  } else if (spec.canonical) {
    raw.base = first(QUERY.base)?.attribs.href;
  }
  if (spec.title) {
    const title = first(QUERY.title);
    raw.title = title === undefined ? undefined : $(title).text();
  }
  if (spec.description) {
    const meta = first(QUERY.description);
    raw.descriptionFound = meta !== undefined;
    raw.description = meta?.attribs.content;
  }
  if (spec.canonical) raw.canonical = first(QUERY.canonical)?.attribs.href;
  if (spec.lang) raw.lang = first(QUERY.html)?.attribs.lang;
  if (spec.metaRobots) {
    for (const meta of selectAll<AnyNode, Element>(QUERY.namedMeta, dom)) if (isRobotsName(meta.attribs.name)) raw.robots.push(meta.attribs.content);
  }
  return raw;
}

/** The built-in fields from their raw values: the clean-up both paths share (whitespace, URL resolution). */
function fieldsFrom(raw: RawFields, pageUrl: string, spec: NormalizedExtract): ParsedFields {
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
function absoluteLinks(hrefs: readonly string[], base: URL): string[] {
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

/**
 * Pulls the asked-for fields out of one page. Without user selectors or `followSelect` no DOM is built: the
 * built-in fields come from htmlparser2's parse events (stream.ts), the same answers as from the DOM (tested side
 * by side on every case). User selectors and `followSelect` need a DOM: cheerio over htmlparser2's (not cheerio's
 * default parse5 tree builder, about 3x slower on big pages), elements read through their raw `attribs` in loops
 * so that a page with hundreds of links does not pay for a cheerio wrapper per link.
 */
export function extract(html: string, pageUrl: string, spec: NormalizedExtract): ParsedFields {
  return extractFrom(html, pageUrl, spec);
}

/**
 * extract() from the page's bytes: decoded as decodeHtml() does, but in pieces of `pieceBytes` that the parser
 * takes one by one, so that no page-sized string is ever made (see PIECE_BYTES). What the parse threads call.
 */
export function extractBody(body: Uint8Array, contentType: string | null, pageUrl: string, spec: NormalizedExtract, pieceBytes = PIECE_BYTES): ParsedFields {
  return extractFrom((write) => decodeHtmlPieces(body, contentType, write, pieceBytes), pageUrl, spec);
}

function extractFrom(input: string | Feed, pageUrl: string, spec: NormalizedExtract): ParsedFields {
  if (spec.select.length > 0 || spec.followSelect !== null) return extractFromDom(input, pageUrl, spec);
  if (!spec.title && !spec.description && !spec.canonical && !spec.lang && !spec.links && !spec.metaRobots) return { title: null, description: null };
  return fieldsFrom(scanPage(input, spec), pageUrl, spec);
}

/**
 * extract() through a DOM, whatever the spec: the path of user selectors and of `followSelect`, and the reference
 * the scan is tested against.
 */
export function extractFromDom(input: string | Feed, pageUrl: string, spec: NormalizedExtract): ParsedFields {
  const dom = parsePage(input);
  const raw = rawFromDom(dom, spec);
  const fields = fieldsFrom(raw, pageUrl, spec);
  if (spec.followSelect !== null) {
    const follow = followHrefs(dom, spec.followSelect);
    fields.followLinks = follow.hrefs.length === 0 ? [] : absoluteLinks(follow.hrefs, documentBase(follow.base, pageUrl));
  }
  if (spec.select.length > 0) {
    const data: Record<string, string | string[] | null> = {};
    for (const sel of spec.select) {
      const valueOf = (el: Element): string | null => (sel.attr === null ? text(el) : (el.attribs[sel.attr] ?? null));
      // User selectors go through cheerio-select (jQuery extensions such as `:first` included), from the page's
      // root as `$(css)` on a loaded page would; the first-match form with a limit of one, so the walk stops.
      if (sel.all) {
        data[sel.name] = select(sel.css, dom, { xmlMode: false }).map(valueOf).filter((v): v is string => v !== null);
      } else {
        const el = select(sel.css, dom, { xmlMode: false }, 1)[0];
        data[sel.name] = el === undefined ? null : valueOf(el);
      }
    }
    fields.data = data;
  }
  return fields;
}
