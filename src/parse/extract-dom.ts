import * as cheerio from 'cheerio/slim';
import { select } from 'cheerio-select';
import { compile, selectAll, selectOne } from 'css-select';
import type { AnyNode, Document, Element } from 'domhandler';
import { parsePage } from './document.js';
import type { NormalizedExtract } from './spec.js';
import type { ParsedFields } from './types.js';
import type { Feed, RawFields } from './stream.js';
import { isRobotsName } from './meta-robots.js';
import { followHrefs } from './follow.js';
import { absoluteLinks, collapse, documentBase, fieldsFrom } from './fields.js';

// The DOM path: user selectors and `followSelect`. A parser bundle of its own (dist/parse/parser-dom.cjs), loaded
// by the first page that needs it (dom-path.ts): cheerio, css-select and their kin are about half of the parser's
// code, which a run of built-in fields (the scan, extract.ts) never runs, and each parse thread and each one-URL
// run would otherwise read, compile and set up (the selectors below are compiled at load).

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
