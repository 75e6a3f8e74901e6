import { Parser, type ParserOptions } from 'htmlparser2';
import { DomHandler, type Document, type DomHandlerOptions, type Element } from 'domhandler';
import type { NormalizedExtract } from './spec.js';

const OPTIONS: ParserOptions & DomHandlerOptions = { decodeEntities: true };

/**
 * htmlparser2's DomHandler, building only as much of the DOM as the extraction spec can look at.
 *
 * - Without user selectors, the built-in fields read attributes and the title's text only, so text outside
 *   `<title>` (most of a page's nodes: whitespace, paragraphs, scripts, styles) and comments are not built:
 *   fewer objects per page, less GC in the parse threads.
 * - For head fields only, the parser stops as soon as every asked-for field is settled. Each of them is "the
 *   first such element in tree order", and htmlparser2's tree order is the order of start tags in the source, so
 *   once the first one is in the DOM nothing later can change the answer. A field that is absent still costs the
 *   whole page (absence is only known at the end).
 *
 * Either way the fields come out exactly as from a whole-document parse (tested side by side).
 */
class ExtractHandler extends DomHandler {
  stopped = false;
  private htmlParser: Parser | null = null;
  private readonly keepText: boolean;
  private readonly stopEarly: boolean;
  private title: boolean;
  private description: boolean;
  private lang: boolean;

  constructor(spec: NormalizedExtract) {
    super(undefined, OPTIONS);
    this.keepText = spec.select.length > 0;
    this.stopEarly = headFieldsOnly(spec);
    this.title = spec.title;
    this.description = spec.description;
    this.lang = spec.lang;
  }

  override onparserinit(parser: Parser): void {
    super.onparserinit(parser);
    this.htmlParser = parser;
  }

  override ontext(data: string): void {
    if (this.keepText || (this.tagStack[this.tagStack.length - 1] as Element | undefined)?.name === 'title') super.ontext(data);
  }

  override oncomment(data: string): void {
    if (this.keepText) super.oncomment(data);
  }

  override onopentag(name: string, attribs: Record<string, string>): void {
    super.onopentag(name, attribs);
    if (!this.stopEarly) return;
    if (name === 'html') this.lang = false;
    // The same test as extract()'s `meta[name="description" i]`; htmlparser2 has lower-cased attribute names.
    else if (name === 'meta' && attribs.name?.toLowerCase() === 'description') this.description = false;
    else return;
    this.stopWhenSettled();
  }

  override onclosetag(): void {
    const closing = this.tagStack[this.tagStack.length - 1] as Element | undefined;
    super.onclosetag();
    // The title's text is only whole once the element closes.
    if (this.stopEarly && closing?.name === 'title') {
      this.title = false;
      this.stopWhenSettled();
    }
  }

  private stopWhenSettled(): void {
    if (this.title || this.description || this.lang) return;
    this.stopped = true;
    this.htmlParser?.pause();
  }
}

/** Whether every field asked for is "the first X in the document", so parsing may stop once each is found. */
function headFieldsOnly(spec: NormalizedExtract): boolean {
  return !spec.links && !spec.canonical && spec.select.length === 0 && (spec.title || spec.description || spec.lang);
}

/** htmlparser2's DOM of a page, as much of it as `spec` needs (what cheerio extracts from). */
export function parsePage(html: string, spec: NormalizedExtract): Document {
  const handler = new ExtractHandler(spec);
  const parser = new Parser(handler, OPTIONS);
  parser.write(html);
  // A paused parser has what it needs; ending it would only finish the rest of the page.
  if (!handler.stopped) parser.end();
  return handler.root;
}
