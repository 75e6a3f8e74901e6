import { createRequire } from 'node:module';

type CssSelect = (css: string, nodes: never[]) => unknown;
let cssSelect: CssSelect | null = null;

/**
 * cheerio-select, loaded the first time a selector must be checked: it is ~40 modules, and a run without `-s`
 * (or `--help`) should not pay for them at start-up. Loaded synchronously (its CommonJS build) because option
 * checking is synchronous; the workers load the same package's ES build.
 */
function selectorEngine(): CssSelect {
  cssSelect ??= (createRequire(import.meta.url)('cheerio-select') as { select: CssSelect }).select;
  return cssSelect;
}

/** One named CSS extraction: the text (or `attr`) of the first match, or of every match with `all`. */
export interface SelectorSpec {
  css: string;
  /** Take this attribute instead of the text. */
  attr?: string;
  /** Give an array of every match instead of the first. */
  all?: boolean;
}

/** What to pull out of each HTML page. */
export interface ExtractSpec {
  /** `<title>` text. @default true */
  title?: boolean;
  /** `<meta name="description">` content. @default true */
  description?: boolean;
  /** `<link rel="canonical">` href, absolute. @default false */
  canonical?: boolean;
  /** `<html lang>`. @default false */
  lang?: boolean;
  /** Every `<a href>` as an absolute http(s) URL (resolved against `<base href>`), de-duplicated, in document order. @default false */
  links?: boolean;
  /**
   * The `content` of `<meta name="robots">` (name matched ASCII case-insensitively, anywhere in the page; several
   * are joined with ", "), for a crawler to honour `nofollow` (see `robotsNofollow`). Reading it means reading the
   * whole page, not stopping after the head fields. @default false
   */
  metaRobots?: boolean;
  /**
   * A CSS selector (the `select` engine, jQuery extensions included) for the links to follow: `followLinks` holds
   * the absolute http(s) URLs of the `<a href>` and `<area href>` elements it matches and of those inside what it
   * matches (so both `a[rel~=next]` and `.pagination` work), resolved and cleaned as `links` are. Setting it builds
   * the page's DOM, as user selectors do. @default null
   */
  followSelect?: string | null;
  /**
   * Named CSS selectors; the result's `data` maps each name to its value. A string is the CLI's short form:
   * `'h1'` (text of the first match), `'a.next@href'` (an attribute), and a name ending in `[]` takes every match.
   */
  select?: Record<string, string | SelectorSpec>;
}

export interface NormalizedSelector {
  name: string;
  css: string;
  attr: string | null;
  all: boolean;
}

/** Plain data, so it crosses to the parse workers as is. */
export interface NormalizedExtract {
  title: boolean;
  description: boolean;
  canonical: boolean;
  lang: boolean;
  links: boolean;
  metaRobots: boolean;
  /** Trimmed and checked: a selector the engine compiles. */
  followSelect: string | null;
  select: NormalizedSelector[];
}

const ATTR_SUFFIX = /@([A-Za-z_:][-A-Za-z0-9_:.]*)$/;

/** Parses the short form `css`, `css@attr`; the `[]` of "all matches" sits on the name. */
export function parseSelector(name: string, value: string | SelectorSpec): NormalizedSelector {
  const all = name.endsWith('[]');
  const cleanName = all ? name.slice(0, -2) : name;
  if (cleanName === '') throw new TypeError(`Expected a selector name, got \`${name}\``);
  let spec: SelectorSpec;
  if (typeof value === 'string') {
    const m = ATTR_SUFFIX.exec(value);
    spec = m ? { css: value.slice(0, m.index), attr: m[1] as string } : { css: value };
  } else if (value && typeof value === 'object' && typeof value.css === 'string') {
    spec = value;
  } else {
    throw new TypeError(`Expected selector \`${name}\` to be a CSS string or { css, attr?, all? }, got \`${JSON.stringify(value)}\``);
  }
  const css = checkedSelector(cleanName, spec.css);
  return { name: cleanName, css, attr: spec.attr ?? null, all: all || spec.all === true };
}

/** A selector trimmed and compiled once, or a TypeError naming `what` (a selector's name or an option) and the value. */
function checkedSelector(what: string, value: string): string {
  const css = value.trim();
  try {
    if (css === '') throw new Error('empty selector');
    // Compiling against no nodes checks syntax and pseudo-class names with the very engine the workers use.
    selectorEngine()(css, []);
  } catch (err) {
    throw new TypeError(`Invalid CSS selector for \`${what}\`: \`${css}\` (${(err as Error).message})`);
  }
  return css;
}

const show = (value: unknown): string => `\`${typeof value === 'string' ? value : JSON.stringify(value) ?? String(value)}\` (${typeof value})`;

function followSelector(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new TypeError(`Expected \`followSelect\` to be a CSS selector string or null, got ${show(value)}`);
  return checkedSelector('followSelect', value);
}

function flag(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`Expected \`${name}\` to be a boolean, got ${show(value)}`);
  return value;
}

export function normalizeExtract(spec: ExtractSpec | undefined): NormalizedExtract {
  if (spec === undefined) {
    return { title: true, description: true, canonical: false, lang: false, links: false, metaRobots: false, followSelect: null, select: [] };
  }
  if (typeof spec !== 'object' || spec === null) {
    throw new TypeError(`Expected \`extract\` to be an object or false, got \`${String(spec)}\` (${typeof spec})`);
  }
  const select = Object.entries(spec.select ?? {}).map(([name, value]) => parseSelector(name, value));
  return {
    title: spec.title ?? true,
    description: spec.description ?? true,
    canonical: spec.canonical ?? false,
    lang: spec.lang ?? false,
    links: spec.links ?? false,
    metaRobots: flag('metaRobots', spec.metaRobots, false),
    followSelect: followSelector(spec.followSelect),
    select,
  };
}
