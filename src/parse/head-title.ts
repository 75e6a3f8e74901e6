import { collapse } from './fields.js';

/**
 * A run that asks for the title alone, on the main thread, without a parse thread: the `<title>` of a UTF-8 page
 * whose head, up to its title, is made only of markup that cannot change how the title is read. The answer is
 * the scan's (stream.ts, htmlparser2's tokenizer) or none: `headTitle` follows the tokenizer's own states
 * (htmlparser2 10.1, Tokenizer.ts) over the bytes, for the few constructs it accepts, and gives up (undefined) at
 * anything else, which then goes to a parse thread as before. test/head-title.test.ts holds it to the scan on
 * pages generated at random.
 *
 * Why: on small pages the hand-off to a parse thread is most of what a title costs the event loop (~10 µs a page
 * against ~1 µs here; docs/performance.md), and the parse thread's CPU is taken from the server and the loop on a
 * small machine.
 */

/** Encoding labels that name UTF-8 (Encoding Standard §4.2, "UTF-8"). */
const UTF8_LABELS = new Set(['unicode-1-1-utf-8', 'unicode11utf8', 'unicode20utf8', 'utf-8', 'utf8', 'x-unicode20utf8']);

/**
 * `text/html` with a charset parameter and nothing else, as servers write it. Anything else (no charset, more
 * parameters) is left to the decoder's full sniffing on a thread.
 */
const HTML_WITH_CHARSET = /^text\/html[\t ]*;[\t ]*charset=("?)([^"\t ;]+)\1[\t ]*$/i;

const utf8Certain = new Map<string, boolean>();
const MAX_CACHED = 64;

/**
 * Whether the Content-Type makes the page UTF-8 whatever its bytes say (but for a BOM): a charset that names an
 * encoding is certain, and the `<meta>` prescan is skipped (HTML §13.2.3.2; decode.ts `sniffOptions`).
 */
function isUtf8(contentType: string | null): boolean {
  if (contentType === null) return false;
  let known = utf8Certain.get(contentType);
  if (known === undefined) {
    const label = HTML_WITH_CHARSET.exec(contentType)?.[2];
    known = label !== undefined && UTF8_LABELS.has(label.toLowerCase());
    if (utf8Certain.size >= MAX_CACHED) utf8Certain.clear();
    utf8Certain.set(contentType, known);
  }
  return known;
}

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const BANG = 0x21;
const QUESTION = 0x3f;
const EQ = 0x3d;
const DQ = 0x22;
const SQ = 0x27;
const DASH = 0x2d;
const BRACKET = 0x5b;
const AMP = 0x26;

/** htmlparser2's `isWhitespace`. */
function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0c || c === 0x0d;
}

/** htmlparser2's `isEndOfTagSection`. */
function endsTagSection(c: number): boolean {
  return c === SLASH || c === GT || isWs(c);
}

function isAsciiAlpha(c: number): boolean {
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x7a;
}

/** Start tags that may come before the title: their content is markup, and none of them changes the title. */
const HEAD_TAGS = ['html', 'head', 'meta', 'link', 'base'];
/** Start tags whose content is text up to their end tag (htmlparser2's special tags) that may come before the title. */
const RAW_TAGS = ['script', 'style'];

/** Whether bytes [from, to) are `name`, ASCII case-insensitively (`name` lower case). */
function nameIs(body: Uint8Array, from: number, to: number, name: string): boolean {
  if (to - from !== name.length) return false;
  for (let i = 0; i < name.length; i++) {
    const c = body[from + i] as number;
    if (!isAsciiAlpha(c) || (c | 0x20) !== name.charCodeAt(i)) return false;
  }
  return true;
}

function oneOf(body: Uint8Array, from: number, to: number, names: readonly string[]): string | null {
  for (const name of names) if (nameIs(body, from, to, name)) return name;
  return null;
}

/**
 * From just after a start tag's name, through its attributes to its `>`, as the tokenizer's attribute states go
 * (BeforeAttributeName … InAttributeValueNq, entities not decoded). The index of the `>` and whether the tag was
 * written self-closing, or null at the end of the bytes.
 */
function tagEnd(body: Uint8Array, from: number): { gt: number; selfClosing: boolean } | null {
  const enum S {
    BeforeName,
    SelfClosing,
    Name,
    AfterName,
    BeforeValue,
    Unquoted,
  }
  let state = S.BeforeName;
  for (let i = from; i < body.length; i++) {
    const c = body[i] as number;
    switch (state) {
      case S.Name:
        if (c !== EQ && !endsTagSection(c)) break;
        state = S.AfterName;
      // falls through: the character is read again after the name
      case S.AfterName:
        if (c === EQ) state = S.BeforeValue;
        else if (c === SLASH || c === GT) {
          state = S.BeforeName;
          i--;
        } else if (!isWs(c)) state = S.Name;
        break;
      case S.BeforeValue:
        if (c === DQ || c === SQ) {
          const close = body.indexOf(c, i + 1);
          if (close === -1) return null;
          i = close;
          state = S.BeforeName;
        } else if (!isWs(c)) {
          state = S.Unquoted;
          i--;
        }
        break;
      case S.Unquoted:
        if (isWs(c) || c === GT) {
          state = S.BeforeName;
          i--;
        }
        break;
      case S.SelfClosing:
        if (c === GT) return { gt: i, selfClosing: true };
        if (!isWs(c)) {
          state = S.BeforeName;
          i--;
        }
        break;
      case S.BeforeName:
        if (c === GT) return { gt: i, selfClosing: false };
        if (c === SLASH) state = S.SelfClosing;
        else if (!isWs(c)) state = S.Name;
        break;
    }
  }
  return null;
}

/**
 * Where the text of a special tag (title, script, style) ends: the index of the `<` of its end tag, and of the
 * character after the end tag's name, as the tokenizer's InSpecialTag state matches `</name` (each character
 * `| 0x20`, then `>` or whitespace); null at the end of the bytes, or where the bytes hold what this does not
 * follow.
 */
function specialEnd(body: Uint8Array, from: number, name: string): { textEnd: number; after: number } | null {
  const end = `</${name}`;
  let matched = 0;
  for (let i = from; i < body.length; i++) {
    const c = body[i] as number;
    // `| 0x20` also takes U+001C for `<` and U+000F for `/`, which the tokenizer matches or skips over depending on
    // where it is in its input (fastForwardTo stops at the end of each decoded piece): left to the scan.
    if (c === 0x1c || c === 0x0f) return null;
    if (matched === end.length) {
      if (c === GT || isWs(c)) return { textEnd: i - end.length, after: i };
      matched = 0;
    }
    if ((c | 0x20) === end.charCodeAt(matched)) matched++;
    else if (matched !== 0) matched = c === LT ? 1 : 0;
  }
  return null;
}

/** Where a comment that starts at `from` (just after `<!--`) ends: the index of its `>`, or -1. */
function commentEnd(body: Uint8Array, from: number): number {
  // The tokenizer's InCommentLike state, `-->` with two dashes already matched (`<!-->` is a whole comment).
  let matched = 2;
  for (let i = from; i < body.length; i++) {
    const c = body[i] as number;
    const want = matched === 2 ? GT : DASH;
    if (c === want) {
      if (++matched === 3) return i;
    } else if (matched !== 0 && c !== DASH) matched = 0;
  }
  return -1;
}

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * The title of a page, whitespace collapsed as the field gives it, when the run can be sure of it from here:
 * UTF-8 by its Content-Type (a UTF-8 BOM allowed), and before the first `<title>` only text, `<!doctype>` and
 * other declarations, processing instructions, comments, the start tags of html, head, meta, link and base, and
 * whole script and style elements; a title with no `&` in it (a character reference is left to the scan), not
 * written self-closing, and closed. Undefined when not sure: the page then goes to a parse thread.
 */
export function headTitle(body: Uint8Array, contentType: string | null): string | undefined {
  if (!isUtf8(contentType)) return undefined;
  // A UTF-16 BOM outranks the Content-Type; a UTF-8 one is dropped by the decoder.
  if (body.length >= 2 && ((body[0] === 0xfe && body[1] === 0xff) || (body[0] === 0xff && body[1] === 0xfe))) return undefined;
  let at = body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
  for (;;) {
    const lt = body.indexOf(LT, at);
    if (lt === -1) return undefined;
    const c = body[lt + 1];
    if (c === undefined) return undefined;
    if (c === BANG) {
      const next = body[lt + 2];
      if (next === BRACKET) return undefined;
      if (next === DASH) {
        if (body[lt + 3] !== DASH) return undefined;
        const gt = commentEnd(body, lt + 4);
        if (gt === -1) return undefined;
        at = gt + 1;
        continue;
      }
      if (next === undefined) return undefined;
      // A declaration (`<!doctype html>`): the character after `!` is its first, and it ends at the next `>`.
      const gt = body.indexOf(GT, lt + 3);
      if (gt === -1) return undefined;
      at = gt + 1;
      continue;
    }
    if (c === QUESTION) {
      const gt = body.indexOf(GT, lt + 2);
      if (gt === -1) return undefined;
      at = gt + 1;
      continue;
    }
    if (c === SLASH) return undefined;
    if (!isAsciiAlpha(c)) {
      // Not markup: `<` is text, and the tokenizer reads on from the character after it.
      at = lt + 1;
      continue;
    }
    let nameEnd = lt + 2;
    while (nameEnd < body.length && !endsTagSection(body[nameEnd] as number)) nameEnd++;
    const tag = tagEnd(body, nameEnd);
    if (tag === null) return undefined;
    if (nameIs(body, lt + 1, nameEnd, 'title')) {
      // `<title/>` leaves the tokenizer outside the title's text state: left to the scan.
      if (tag.selfClosing) return undefined;
      const end = specialEnd(body, tag.gt + 1, 'title');
      if (end === null) return undefined;
      const text = body.subarray(tag.gt + 1, end.textEnd);
      if (text.indexOf(AMP) !== -1) return undefined;
      return collapse(decoder.decode(text));
    }
    if (oneOf(body, lt + 1, nameEnd, HEAD_TAGS) !== null) {
      at = tag.gt + 1;
      continue;
    }
    const raw = oneOf(body, lt + 1, nameEnd, RAW_TAGS);
    if (raw === null) return undefined;
    if (tag.selfClosing) {
      // A self-closing special tag resets the tokenizer's special state: its content is markup again.
      at = tag.gt + 1;
      continue;
    }
    const end = specialEnd(body, tag.gt + 1, raw);
    if (end === null) return undefined;
    // The end tag runs to the next `>` (AfterClosingTagName).
    const gt = body.indexOf(GT, end.after);
    if (gt === -1) return undefined;
    at = gt + 1;
  }
}
