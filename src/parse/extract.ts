import * as cheerio from 'cheerio/slim';
import { parseDocument } from 'htmlparser2';
import { select } from 'cheerio-select';
import type { Element } from 'domhandler';
import type { NormalizedExtract } from './spec.js';
import type { ParsedFields } from './types.js';

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

/**
 * Pulls the asked-for fields out of one page. cheerio over htmlparser2's DOM (not cheerio's default parse5
 * tree builder, about 3x slower on big pages); elements are read through their raw `attribs` in loops so that
 * a page with hundreds of links does not pay for a cheerio wrapper per link.
 */
export function extract(html: string, pageUrl: string, spec: NormalizedExtract): ParsedFields {
  const dom = parseDocument(html, { decodeEntities: true });
  const $ = cheerio.load(dom);
  // The first match only, found by cheerio's own selector engine with a limit of one, so the walk stops there:
  // `$(css).first()` would match the whole document first (half the time of a 150 KB page).
  const first = (css: string): Element | undefined => select(css, dom, { xmlMode: false }, 1)[0];
  const fields: ParsedFields = { title: null, description: null };
  // Only links and canonical need the base URL; finding <base> costs a walk of the whole DOM.
  const base = spec.links || spec.canonical ? documentBase(first('base[href]')?.attribs.href, pageUrl) : null;
  if (spec.title) {
    const title = first('title');
    fields.title = title === undefined ? null : collapse($(title).text());
  }
  if (spec.description) {
    const content = first('meta[name="description" i]')?.attribs.content;
    fields.description = content === undefined ? null : collapse(content);
  }
  if (spec.canonical) fields.canonical = resolveHttp(first('link[rel~="canonical" i][href]')?.attribs.href, base as URL);
  if (spec.lang) fields.lang = first('html')?.attribs.lang?.trim() || null;
  if (spec.links) {
    const seen = new Set<string>();
    for (const el of $('a[href], area[href]').toArray() as Element[]) {
      const abs = resolveHttp(el.attribs.href, base as URL);
      if (abs === null) continue;
      // Fragments name a spot on a page, not another page.
      const hash = abs.indexOf('#');
      const link = hash === -1 ? abs : abs.slice(0, hash);
      if (!seen.has(link)) seen.add(link);
    }
    fields.links = [...seen];
  }
  if (spec.select.length > 0) {
    const data: Record<string, string | string[] | null> = {};
    for (const sel of spec.select) {
      const valueOf = (el: Element): string | null => (sel.attr === null ? collapse($(el).text()) : (el.attribs[sel.attr] ?? null));
      if (sel.all) {
        data[sel.name] = ($(sel.css).toArray() as Element[]).map(valueOf).filter((v): v is string => v !== null);
      } else {
        const el = first(sel.css);
        data[sel.name] = el === undefined ? null : valueOf(el);
      }
    }
    fields.data = data;
  }
  return fields;
}
