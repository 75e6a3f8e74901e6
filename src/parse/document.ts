import { Parser, type ParserOptions } from 'htmlparser2';
import { DomHandler, type DomHandlerOptions, type Document } from 'domhandler';
import type { Feed } from './stream.js';
import { SkipTokenizer } from './skip-tokenizer.js';

// SkipTokenizer: with references decoded the tokenizer still skips through script and style bodies, comments and
// end tags (skip-tokenizer.ts).
const OPTIONS: ParserOptions & DomHandlerOptions = { decodeEntities: true, Tokenizer: SkipTokenizer };

/**
 * htmlparser2's DOM of a whole page: what cheerio runs user selectors on. Only a run with user selectors builds
 * one; the built-in fields come from the parse events alone (stream.ts). (A DomHandler that built only what the
 * built-in fields read, and stopped early for head fields, came before the scan and is no longer needed: user
 * selectors can read any node, and without them no DOM is built at all.)
 */
export function parsePage(input: string | Feed): Document {
  // htmlparser2's parseDocument(), with the text given whole or in pieces (DomHandler joins split text nodes).
  const handler = new DomHandler(undefined, OPTIONS);
  const parser = new Parser(handler, OPTIONS);
  if (typeof input === 'string') parser.write(input);
  else input((piece) => (parser.write(piece), true));
  parser.end();
  return handler.root;
}
