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
  const css = spec.css.trim();
  try {
    if (css === '') throw new Error('empty selector');
    // Compiling against no nodes checks syntax and pseudo-class names with the very engine the workers use.
    selectorEngine()(css, []);
  } catch (err) {
    throw new TypeError(`Invalid CSS selector for \`${cleanName}\`: \`${css}\` (${(err as Error).message})`);
  }
  return { name: cleanName, css, attr: spec.attr ?? null, all: all || spec.all === true };
}

export function normalizeExtract(spec: ExtractSpec | undefined): NormalizedExtract {
  if (spec === undefined) return { title: true, description: true, canonical: false, lang: false, links: false, select: [] };
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
    select,
  };
}
