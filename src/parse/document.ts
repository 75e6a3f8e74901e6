import { parseDocument, type ParserOptions } from 'htmlparser2';
import type { DomHandlerOptions, Document } from 'domhandler';

const OPTIONS: ParserOptions & DomHandlerOptions = { decodeEntities: true };

/**
 * htmlparser2's DOM of a whole page: what cheerio runs user selectors on. Only a run with user selectors builds
 * one; the built-in fields come from the parse events alone (stream.ts). (A DomHandler that built only what the
 * built-in fields read, and stopped early for head fields, came before the scan and is no longer needed: user
 * selectors can read any node, and without them no DOM is built at all.)
 */
export function parsePage(html: string): Document {
  return parseDocument(html, OPTIONS);
}
