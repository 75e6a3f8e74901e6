import { decodeHTML, decodeHTMLAttribute } from 'entities/decode';
import { Parser, type Handler, type ParserOptions } from 'htmlparser2';
import type { NormalizedExtract } from './spec.js';
import { isRobotsName } from './meta-robots.js';
import { SkipTokenizer } from './skip-tokenizer.js';
import { isDescription, noRawFields } from './fields.js';
import { stopsEarly } from './needs-dom.js';

/**
 * What the built-in fields are made of, as found in the page, before any clean-up (whitespace, URL resolution):
 * the same raw values whether they come from this scan or from a DOM (fields.ts turns either into fields).
 * `undefined` means "no such element" (or "not looked for").
 */
export interface RawFields {
  /** Text of the first `<title>`; undefined without one. */
  title: string | undefined;
  /** Whether the first `meta[name="description" i]` exists, and its `content` (which may be absent). */
  descriptionFound: boolean;
  description: string | undefined;
  /** `href` of the first `link[rel~="canonical" i][href]`. */
  canonical: string | undefined;
  /** `lang` of the first `<html>` (which may lack one). */
  lang: string | undefined;
  /** `href` of the first `base[href]`. */
  base: string | undefined;
  /** `href` of every `a[href]` and `area[href]`, in document order. */
  hrefs: string[];
  /** `content` of every robots meta (meta-robots.ts `isRobotsName`), in document order; undefined where absent. */
  robots: (string | undefined)[];
}

/**
 * Character references are left in place by the tokenizer and decoded here, in only what a field reads: with them
 * on, htmlparser2 walks all text and every attribute value a character at a time looking for `&`; with them off it
 * skips to the next `<` or quote (fastForwardTo; `indexOf` in SkipTokenizer). A W3 page 1.24 → 1.05 ms, a W1
 * page read to its end 13.5 → 10.9 µs (before SkipTokenizer).
 * The decoding is the one the tokenizer would have done: the same decoder (entities, htmlparser2's own), in its
 * text mode for text and its attribute mode for attribute values, over the same characters (a text run is decoded
 * whole, as the tokenizer decodes across the pieces it is written in; see FieldScan.flushText).
 */
const OPTIONS: ParserOptions = { decodeEntities: false, Tokenizer: SkipTokenizer };

/**
 * The text of a `<title>` as htmlparser2's tokenizer decodes it in its RCDATA state: references decoded (text
 * mode), except a `&` right after the start of what might have been `</title` (`<`, `</`, `</t`, …: the tokenizer
 * is matching the end tag then, and drops back without starting a reference). That is htmlparser2's reading, which
 * the DOM path shares, and the scan gives the DOM's answers. Characters compared as the tokenizer compares them.
 */
const TITLE_END = '</title';
function decodeTitleText(run: string): string {
  let out = '';
  let from = 0;
  let matched = 0;
  for (let i = 0; i < run.length; i++) {
    const c = run.charCodeAt(i);
    // A whole `</title` followed by anything but `>` or whitespace (which would have ended the title) is text.
    if (matched === TITLE_END.length) matched = 0;
    if ((c | 0x20) === TITLE_END.charCodeAt(matched)) matched++;
    else if (matched !== 0) {
      if (c === 0x26) {
        out += decodeHTML(run.slice(from, i)) + '&';
        from = i + 1;
      }
      matched = c === 0x3c ? 1 : 0;
    }
  }
  return out + decodeHTML(run.slice(from));
}

const enum TextMode {
  /** Ordinary text: every reference decoded (text mode). */
  Decoded,
  /** Inside script, style, textarea and xmp: htmlparser2 decodes nothing there (textarea included). */
  Raw,
  /** Inside a title: decodeTitleText. */
  Title,
}

/** Start tags after which htmlparser2's tokenizer reads special text up to the matching end tag (`startSpecial`). */
const SPECIAL_TEXT = new Map<string, TextMode>([
  ['script', TextMode.Raw],
  ['style', TextMode.Raw],
  ['textarea', TextMode.Raw],
  ['xmp', TextMode.Raw],
  ['title', TextMode.Title],
]);

/** An attribute value as the tokenizer would have decoded it. */
function attr(value: string | undefined): string | undefined {
  return value === undefined || value.indexOf('&') === -1 ? value : decodeHTMLAttribute(value);
}

/** css-select's `[rel~="canonical" i]`, the very test it compiles (attributes.js `element`). */
const CANONICAL_REL = /(?:^|\s)canonical(?:$|\s)/i;

/** domutils' `hasAttrib`, which css-select's `[href]` uses. */
function has(attribs: Record<string, string>, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(attribs, name) && attribs[name] != null;
}

/** Elements whose attributes a built-in field reads; every other element's attributes are not even sliced out. */
const READ_ATTRIBUTES = new Set(['a', 'area', 'base', 'link', 'meta', 'html']);

/**
 * The built-in fields straight from htmlparser2's parse events, with no DOM at all.
 *
 * It sees exactly what the DOM path's DomHandler sees, from the same Parser (same tree building: implied end tags,
 * void elements, foreign content), and keeps the same little of it:
 * - Elements are in the DOM in the order their `onopentag` events come, so "the first X in tree order" is the
 *   first such event; an element whose start tag the page cuts off (end of input inside it) never gets one, as it
 *   never gets a DOM node.
 * - Open elements are counted as DomHandler's tag stack is kept (pushed on `onopentag`, popped on every
 *   `onclosetag`), so the title's text is its text content in the DOM: every text event while the first
 *   `<title>` is open, at any depth (a page can put elements inside a title: `<title/>` does not close it in
 *   HTML). Comments are not text, as `textContent` skips them.
 *
 * The Parser itself is told to skip what no field reads: the attributes of elements other than a, area, base,
 * link, meta and html, text outside the title, comments. Those are slices of the input and strings the parser
 * would otherwise build for every node of the page.
 */
class FieldScan implements Partial<Handler> {
  readonly raw: RawFields = noRawFields();

  /** Read by the parser: whether the element being opened has attributes a field reads. */
  readAttributes = false;
  /** Read by the parser: whether text now belongs to the first title (while it is open, at any depth). */
  readText = false;

  /** How many elements are open (DomHandler's tag stack, less the document). */
  private depth = 0;
  /** The depth of the first `<title>` while it is open, -1 before it, -2 after. */
  private titleAt = -1;
  private titleText = '';
  /**
   * The first title's text since the last markup, not yet decoded. DomHandler joins adjacent text into one node and
   * the tokenizer decodes a reference split across two `write`s, so a run is decoded whole, when markup ends it.
   */
  private titleRun = '';
  private htmlSeen = false;

  private parser: Parser | null = null;
  /** Head fields still unsettled, when the scan may stop at the last of them; null when it reads to the end. */
  private pending: { title: boolean; description: boolean; lang: boolean } | null;
  stopped = false;

  constructor(spec: NormalizedExtract) {
    // metaRobots reads the whole page, like links: robots metas accumulate, so none settles the field, and one is
    // honoured wherever it is. Google documents the tag for <head>, but "in <head>" is not something this scan
    // (or htmlparser2's tree, which has no head/body insertion modes) can tell the way a browser does: there, a
    // stray <img> or text in the head ends it, and every later meta lands in <body>. A crawler that missed a
    // `nofollow` over that would follow links the author forbade; reading on costs little (a crawl asks for links,
    // which read the whole page anyway).
    this.pending = stopsEarly(spec) ? { title: spec.title, description: spec.description, lang: spec.lang } : null;
  }

  onparserinit(parser: Parser): void {
    this.parser = parser;
  }

  onopentagname(name: string): void {
    this.readAttributes = READ_ATTRIBUTES.has(name);
    this.flushText();
  }

  /** `<!doctype …>` and `<?…>`: nodes of their own in the DOM, so they end a text run too. */
  onprocessinginstruction(): void {
    this.flushText();
  }

  /** Markup ends a text run: its references are decoded now (see `titleRun`). Also called for comments. */
  flushText(): void {
    const run = this.titleRun;
    if (run === '') return;
    const mode = this.textMode;
    if (run.indexOf('&') === -1 || mode === TextMode.Raw) this.titleText += run;
    else this.titleText += mode === TextMode.Title ? decodeTitleText(run) : decodeHTML(run);
    this.titleRun = '';
  }

  /** Set by the parser while it reports a start tag written self-closing (`<title/>`). */
  selfClosing = false;
  /**
   * How the tokenizer reads the text that follows now: as it changes only at tags, and a tag ends the text run
   * first, it is the mode of the whole run. (Text reaches the scan only inside the first title, which `<title/>`
   * leaves open with any markup in it: a textarea, a style, another title.)
   */
  private textMode = TextMode.Decoded;

  onopentag(name: string, attribs: Record<string, string>): void {
    this.depth++;
    // Written self-closing, no tag puts the tokenizer in a special state (it resets it); see SPECIAL_TEXT.
    this.textMode = this.selfClosing ? TextMode.Decoded : (SPECIAL_TEXT.get(name) ?? TextMode.Decoded);
    const raw = this.raw;
    switch (name) {
      case 'title':
        if (this.titleAt === -1) {
          this.titleAt = this.depth;
          this.readText = true;
        }
        break;
      case 'a':
      case 'area':
        if (has(attribs, 'href')) raw.hrefs.push(attr(attribs.href) as string);
        break;
      case 'base':
        if (raw.base === undefined && has(attribs, 'href')) raw.base = attr(attribs.href);
        break;
      case 'link':
        if (raw.canonical === undefined && has(attribs, 'href')) {
          const rel = attr(attribs.rel);
          if (rel != null && rel.length >= 9 && CANONICAL_REL.test(rel)) raw.canonical = attr(attribs.href);
        }
        break;
      case 'meta': {
        const metaName = attr(attribs.name);
        if (!raw.descriptionFound && isDescription(metaName)) {
          raw.descriptionFound = true;
          raw.description = attr(attribs.content);
          this.settled('description');
        } else if (isRobotsName(metaName)) {
          raw.robots.push(attr(attribs.content));
        }
        break;
      }
      case 'html':
        if (!this.htmlSeen) {
          this.htmlSeen = true;
          raw.lang = attr(attribs.lang);
          this.settled('lang');
        }
        break;
    }
  }

  ontext(data: string): void {
    // The parser only hands text over while readText is set; the test stays here for clarity and safety.
    if (this.readText) this.titleRun += data;
  }

  onclosetag(): void {
    this.flushText();
    this.textMode = TextMode.Decoded;
    if (this.depth > 0) this.depth--;
    if (this.depth < this.titleAt) {
      this.raw.title = this.titleText;
      this.titleAt = -2;
      this.readText = false;
      this.settled('title');
    }
  }

  onend(): void {
    this.flushText();
    // An unclosed first title runs to the end of the page (the parser closes it there, so this is a safeguard).
    if (this.titleAt >= 0) {
      this.raw.title = this.titleText;
      this.titleAt = -2;
      this.readText = false;
    }
  }

  private settled(field: 'title' | 'description' | 'lang'): void {
    const pending = this.pending;
    if (pending === null) return;
    pending[field] = false;
    if (pending.title || pending.description || pending.lang) return;
    this.stopped = true;
    this.parser?.pause();
  }
}

/**
 * htmlparser2's Parser, told by the scan which parts of the input to make strings of. Everything that decides
 * the tree (tag names, the open-element stack, implied and void end tags, foreign content) is the Parser's own;
 * the overrides only skip building attribute values, text and comments no field reads.
 */
class LeanParser extends Parser {
  constructor(private readonly scan: FieldScan) {
    super(scan, OPTIONS);
  }

  override ontext(start: number, endIndex: number): void {
    if (this.scan.readText) return super.ontext(start, endIndex);
    this.endIndex = endIndex - 1;
    this.startIndex = endIndex;
  }

  override onattribname(start: number, endIndex: number): void {
    if (this.scan.readAttributes) super.onattribname(start, endIndex);
  }

  override onattribdata(start: number, endIndex: number): void {
    if (this.scan.readAttributes) super.onattribdata(start, endIndex);
  }

  override onattribend(quote: Parameters<Parser['onattribend']>[0], endIndex: number): void {
    if (this.scan.readAttributes) return super.onattribend(quote, endIndex);
    this.endIndex = endIndex;
  }

  // (No ontextentity or onattribentity: references are not decoded by the tokenizer, see OPTIONS.)

  override onselfclosingtag(endIndex: number): void {
    this.scan.selfClosing = true;
    super.onselfclosingtag(endIndex);
    this.scan.selfClosing = false;
  }

  override oncomment(_start: number, endIndex: number): void {
    // A comment is a node of its own, between text runs.
    this.scan.flushText();
    this.endIndex = endIndex;
    this.startIndex = endIndex + 1;
  }

  override oncdata(_start: number, endIndex: number): void {
    // In HTML (not XML) mode a CDATA section is a comment, which no field reads.
    this.scan.flushText();
    this.endIndex = endIndex;
    this.startIndex = endIndex + 1;
  }
}

/** A page's text, handed to `write` in one or more pieces, in order, until `write` returns false. */
export type Feed = (write: (piece: string) => boolean) => void;

/**
 * The raw built-in fields of a page from one streaming pass (no DOM), its text given whole or in pieces.
 * Parsing stops as soon as every asked-for field is settled when all of them are head fields ("the first X":
 * title, description, lang); the rest of the page is then not even decoded.
 */
export function scanPage(input: string | Feed, spec: NormalizedExtract): RawFields {
  const scan = new FieldScan(spec);
  const parser = new LeanParser(scan);
  const write = (piece: string): boolean => {
    parser.write(piece);
    return !scan.stopped;
  };
  if (typeof input === 'string') write(input);
  else input(write);
  // A paused parser has what it needs; ending it would only finish the rest of the page.
  if (!scan.stopped) parser.end();
  return scan.raw;
}
