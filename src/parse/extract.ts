import type { NormalizedExtract } from './spec.js';
import { headOnly, needsDom } from './needs-dom.js';
import type { ParsedFields } from './types.js';
import { scanPage, type Feed } from './stream.js';
import { decodeHtmlPieces, FIRST_PIECE_BYTES, PIECE_BYTES } from './decode.js';
import { overrunMessage } from './protocol.js';
import { fieldsFrom } from './fields.js';
import { domPath } from './dom-path.js';

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

/** Thrown by extractBody when the page's parse runs past its deadline; what fails that page alone (worker.ts). */
export class ParseDeadlineExceeded extends Error {
  constructor(readonly deadlineMs: number) {
    super(overrunMessage(deadlineMs));
    this.name = 'ParseDeadlineExceeded';
  }
}

/**
 * extract() from the page's bytes: decoded as decodeHtml() does, but in pieces of `pieceBytes` that the parser
 * takes one by one, so that no page-sized string is ever made (see PIECE_BYTES). When the scan may stop in the
 * head (stopsEarly), the pieces start small (FIRST_PIECE_BYTES) and grow, and the rest is never decoded. What
 * the parse threads call.
 *
 * With `deadlineMs`, the clock is read before each piece: a page whose parse has run longer than that throws
 * ParseDeadlineExceeded there, and the thread goes on with the next page of its batch. A piece is 32 KiB (well
 * under a millisecond of ordinary HTML), so this is the deadline's usual path; what one piece or a selector
 * keeps busy past it is stopped by the pool (pool.ts), which kills the thread.
 */
export function extractBody(
  body: Uint8Array,
  contentType: string | null,
  pageUrl: string,
  spec: NormalizedExtract,
  pieceBytes = PIECE_BYTES,
  deadlineMs?: number,
): ParsedFields {
  const first = headOnly(spec) ? FIRST_PIECE_BYTES : pieceBytes;
  const endsAt = deadlineMs === undefined ? Infinity : performance.now() + deadlineMs;
  const checked = (write: (piece: string) => boolean) => (piece: string): boolean => {
    if (performance.now() > endsAt) throw new ParseDeadlineExceeded(deadlineMs as number);
    return write(piece);
  };
  return extractFrom((write) => decodeHtmlPieces(body, contentType, checked(write), pieceBytes, first), pageUrl, spec);
}

function extractFrom(input: string | Feed, pageUrl: string, spec: NormalizedExtract): ParsedFields {
  if (needsDom(spec)) return domPath().extractFromDom(input, pageUrl, spec);
  if (!spec.title && !spec.description && !spec.canonical && !spec.lang && !spec.links && !spec.metaRobots) return { title: null, description: null };
  return fieldsFrom(scanPage(input, spec), pageUrl, spec);
}
