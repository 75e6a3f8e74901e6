import { Parser, type ParserOptions } from 'htmlparser2';
import { DomHandler, type Document, type DomHandlerOptions, type Element } from 'domhandler';
import type { NormalizedExtract } from './spec.js';

const OPTIONS: ParserOptions & DomHandlerOptions = { decodeEntities: true };

/**
 * Stops the parser as soon as every asked-for field is settled. Each of them is "the first such element in tree
 * order", and htmlparser2's tree order is the order of start tags in the source, so once the first one is in the
 * DOM nothing later can change the answer: the fields come out exactly as from a whole-document parse. A field
 * that is absent still costs the whole page (absence is only known at the end).
 */
class HeadFieldsHandler extends DomHandler {
  stopped = false;
  private htmlParser: Parser | null = null;
  private title: boolean;
  private description: boolean;
  private lang: boolean;

  constructor(spec: NormalizedExtract) {
    super(undefined, OPTIONS);
    this.title = spec.title;
    this.description = spec.description;
    this.lang = spec.lang;
  }

  override onparserinit(parser: Parser): void {
    super.onparserinit(parser);
    this.htmlParser = parser;
  }

  override onopentag(name: string, attribs: Record<string, string>): void {
    super.onopentag(name, attribs);
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
    if (closing?.name === 'title') {
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

/**
 * htmlparser2's DOM of a page (what cheerio extracts from). For a spec of head fields only (the common "title
 * and description" run) parsing stops once they are found: on small pages the title is near the top and the
 * rest of the page is most of the parse.
 */
export function parsePage(html: string, spec: NormalizedExtract): Document {
  if (!headFieldsOnly(spec)) {
    const handler = new DomHandler(undefined, OPTIONS);
    new Parser(handler, OPTIONS).end(html);
    return handler.root;
  }
  const handler = new HeadFieldsHandler(spec);
  const parser = new Parser(handler, OPTIONS);
  parser.write(html);
  // A paused parser has what it needs; ending it would only finish the rest of the page.
  if (!handler.stopped) parser.end();
  return handler.root;
}
