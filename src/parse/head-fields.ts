import { fieldsFrom, isDescription, noRawFields } from './fields.js';
import type { NormalizedExtract } from './spec.js';
import type { ParsedFields } from './types.js';

/**
 * The head fields (title, description, lang) of a page on the main thread, without a parse thread, for a run that
 * asks for nothing else: when the page is UTF-8 and its head, up to the last of those fields, is made only of
 * markup that cannot change how they are read. The answer is the scan's (stream.ts, htmlparser2's tokenizer and
 * parser) or none: `headFields` follows the tokenizer's own states (htmlparser2 10.1, Tokenizer.ts) over the
 * bytes, for the few constructs it accepts, and gives up (undefined) at anything else, which then goes to a
 * parse thread as before. test/head-fields.test.ts holds it to the scan on pages generated at random.
 *
 * Why: on small pages the hand-off to a parse thread is most of what the fields cost the event loop (~10 µs a
 * page against ~1 µs here; docs/performance.md), and on a small machine the parse thread's CPU is taken from the
 * server and the event loop.
 */

/** Encoding labels that name UTF-8 (Encoding Standard §4.2, "UTF-8"). */
const UTF8_LABELS = new Set(['unicode-1-1-utf-8', 'unicode11utf8', 'unicode20utf8', 'utf-8', 'utf8', 'x-unicode20utf8']);

/**
 * `text/html` with a charset parameter and nothing else, as servers write it. Anything else (no charset, more
 * parameters) is left to the decoder's full sniffing on a thread.
 */
const HTML_WITH_CHARSET = /^text\/html[\t ]*;[\t ]*charset=("?)([^"\t ;]+)\1[\t ]*$/i;

/** `text/html` and nothing else: the page's bytes decide its encoding (a BOM, then the `<meta>` prescan). */
const HTML_ALONE = /^text\/html[\t ]*$/i;

/** What a Content-Type says of a page's encoding, for this read: UTF-8 for certain, the bytes decide, or neither. */
type Charset = 'utf-8' | 'sniff' | 'other';

const charsets = new Map<string, Charset>();
const MAX_CACHED = 64;

/**
 * A charset that names an encoding is certain, and the `<meta>` prescan is skipped (HTML §13.2.3.2; decode.ts
 * `sniffOptions`): UTF-8 then whatever the bytes say (but for a BOM). Bare `text/html` leaves it to the bytes.
 */
function charsetOf(contentType: string | null): Charset {
  if (contentType === null) return 'other';
  let known = charsets.get(contentType);
  if (known === undefined) {
    const label = HTML_WITH_CHARSET.exec(contentType)?.[2];
    known = label !== undefined && UTF8_LABELS.has(label.toLowerCase()) ? 'utf-8' : HTML_ALONE.test(contentType) ? 'sniff' : 'other';
    if (charsets.size >= MAX_CACHED) charsets.clear();
    charsets.set(contentType, known);
  }
  return known;
}

type GetEncoding = typeof import('encoding-sniffer/sniffer').getEncoding;
let sniffer: GetEncoding | null = null;
let sniffing: Promise<void> | null = null;

/**
 * Loads the encoding sniffer the parse threads use (encoding-sniffer, with the WHATWG labels), for pages whose
 * Content-Type leaves the encoding to their bytes: only when the first such page comes (that page goes to a thread),
 * since a run of pages that name their charset, and every run's start-up, need none of it. Tests await it.
 */
export function loadSniffer(): Promise<void> {
  sniffing ??= import('encoding-sniffer/sniffer').then(
    (m) => void (sniffer = m.getEncoding),
    () => {}, // not loaded: such pages go to a thread, as before
  );
  return sniffing;
}

/** Whether the page is UTF-8 as the scan will decode it (decode.ts), when the run can tell now; false when not. */
function isUtf8(page: Uint8Array, contentType: string | null): boolean {
  const charset = charsetOf(contentType);
  if (charset !== 'sniff') return charset === 'utf-8';
  if (sniffer === null) {
    void loadSniffer();
    return false;
  }
  // The scan's own call, with the options it gives a Content-Type without a charset (none).
  return sniffer(Buffer.from(page.buffer, page.byteOffset, page.byteLength), {}) === 'UTF-8';
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

/**
 * The start tags this reads. Of them, script, style and title are special (their content is text up to their end
 * tag); the others' content is markup, and none implies the end of another (htmlparser2's openImpliesClose).
 */
const TAGS = ['html', 'head', 'meta', 'link', 'base', 'title', 'script', 'style'];

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

/** An attribute as the tokenizer splits it: its name's bytes and its value's (an attribute with no value: empty). */
interface Attribute {
  nameStart: number;
  nameEnd: number;
  valueStart: number;
  valueEnd: number;
}

/**
 * The tokenizer's attribute states, as plain numbers: an enum (even a `const enum`, under isolatedModules) is an
 * object the compiled code builds where it is declared, which inside tagEnd was once per tag.
 */
const S = { BeforeName: 0, SelfClosing: 1, Name: 2, AfterName: 3, BeforeValue: 4, Unquoted: 5 } as const;

/**
 * From just after a start tag's name, through its attributes to its `>`, as the tokenizer's attribute states go
 * (BeforeAttributeName … InAttributeValueNq, entities not decoded). The index of the `>` and whether the tag was
 * written self-closing, or null at the end of the bytes. With `attributes`, each attribute is pushed there.
 */
function tagEnd(body: Uint8Array, from: number, attributes: Attribute[] | null): { gt: number; selfClosing: boolean } | null {
  let state: number = S.BeforeName;
  let nameStart = 0;
  let nameEnd = 0;
  let valueStart = 0;
  const push = (valueEnd: number): void => void attributes?.push({ nameStart, nameEnd, valueStart, valueEnd });
  for (let i = from; i < body.length; i++) {
    const c = body[i] as number;
    switch (state) {
      case S.Name:
        if (c !== EQ && !endsTagSection(c)) break;
        nameEnd = i;
        state = S.AfterName;
      // falls through: the character is read again after the name
      case S.AfterName:
        if (c === EQ) state = S.BeforeValue;
        else if (c === SLASH || c === GT) {
          push((valueStart = i));
          state = S.BeforeName;
          i--;
        } else if (!isWs(c)) {
          push((valueStart = i));
          state = S.Name;
          nameStart = i;
        }
        break;
      case S.BeforeValue:
        if (c === DQ || c === SQ) {
          const close = body.indexOf(c, i + 1);
          if (close === -1) return null;
          valueStart = i + 1;
          push(close);
          i = close;
          state = S.BeforeName;
        } else if (!isWs(c)) {
          valueStart = i;
          state = S.Unquoted;
          i--;
        }
        break;
      case S.Unquoted:
        if (isWs(c) || c === GT) {
          push(i);
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
        else if (!isWs(c)) {
          state = S.Name;
          nameStart = i;
        }
        break;
    }
  }
  return null;
}

type SpecialTag = 'title' | 'script' | 'style';
/** The end sequences the tokenizer matches in a special tag's text (its Sequences.TitleEnd, …), made once. */
const SPECIAL_ENDS: Record<SpecialTag, string> = { title: '</title', script: '</script', style: '</style' };

/**
 * Where the text of a special tag (title, script, style) ends: the index of the `<` of its end tag, and of the
 * character after the end tag's name, as the tokenizer's InSpecialTag state matches `</name` (each character
 * `| 0x20`, then `>` or whitespace); null at the end of the bytes, or where the bytes hold what this does not
 * follow.
 */
function specialEnd(body: Uint8Array, from: number, name: SpecialTag): { textEnd: number; after: number } | null {
  const end = SPECIAL_ENDS[name];
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
 * How far into a page the main thread reads for its head: at worst (a long script before the title) a JavaScript
 * loop over each byte, ~0.1 ms for 64 KiB; a head that runs on past it goes to a thread.
 */
export const HEAD_MAX_BYTES = 64 * 1024;

/** The value of the first attribute named `name` (ASCII lower case): the parser keeps the first of a name. */
function attribute(body: Uint8Array, attributes: readonly Attribute[], name: string): { start: number; end: number } | undefined {
  for (const a of attributes) {
    // The parser lower-cases names with toLowerCase(); a name with other than ASCII bytes lower-cases to no ASCII name
    // we look for (none of them has a `k`, the one ASCII letter a non-ASCII character lower-cases to: K, U+212A).
    if (nameIs(body, a.nameStart, a.nameEnd, name)) return { start: a.valueStart, end: a.valueEnd };
  }
  return undefined;
}

/** Text as the scan has it: the bytes decoded; undefined when a character reference would need decoding. */
function text(body: Uint8Array, start: number, end: number): string | undefined {
  const bytes = body.subarray(start, end);
  return bytes.indexOf(AMP) === -1 ? decoder.decode(bytes) : undefined;
}

/** An attribute's value as the scan has it; `null` when it is absent, undefined when unsure (a reference in it). */
function value(body: Uint8Array, attributes: readonly Attribute[], name: string): string | null | undefined {
  const at = attribute(body, attributes, name);
  return at === undefined ? null : text(body, at.start, at.end);
}

/**
 * The head fields the spec asks for (headOnly), as the scan would give them, when the run can be sure of them from
 * here: UTF-8 by its Content-Type (a UTF-8 BOM allowed), or by its bytes when the Content-Type is bare `text/html`
 * (the scan's sniffer, once loaded: a BOM, then the `<meta>` prescan); before the last of them only text,
 * `<!doctype>` and other declarations, processing instructions, comments, the start tags of html, head, meta, link
 * and base, whole script, style and title elements (not written self-closing); a field read with no character
 * reference in it.
 * Undefined when not sure (a field the head does not settle included): the page then goes to a parse thread.
 */
export function headFields(page: Uint8Array, contentType: string | null, spec: NormalizedExtract): ParsedFields | undefined {
  if (!isUtf8(page, contentType)) return undefined;
  // Never an answer from the end of the bytes (every construct must be whole), so reading a prefix is safe.
  const body = page.length > HEAD_MAX_BYTES ? page.subarray(0, HEAD_MAX_BYTES) : page;
  // A UTF-16 BOM outranks the Content-Type; a UTF-8 one is dropped by the decoder.
  if (body.length >= 2 && ((body[0] === 0xfe && body[1] === 0xff) || (body[0] === 0xff && body[1] === 0xfe))) return undefined;
  const raw = noRawFields();
  // The fields still unsettled, as the scan's `pending`: each settles at its first element.
  let title = spec.title;
  let description = spec.description;
  let lang = spec.lang;
  let titleSeen = false;
  let htmlSeen = false;
  const attributes: Attribute[] = [];
  let at = body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
  while (title || description || lang) {
    const lt = body.indexOf(LT, at);
    if (lt === -1) return undefined;
    const c = body[lt + 1];
    if (c === undefined) return undefined;
    if (c === BANG) {
      const next = body[lt + 2];
      if (next === BRACKET || next === undefined) return undefined;
      if (next === DASH) {
        if (body[lt + 3] !== DASH) return undefined;
        const gt = commentEnd(body, lt + 4);
        if (gt === -1) return undefined;
        at = gt + 1;
        continue;
      }
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
    const name = oneOf(body, lt + 1, nameEnd, TAGS);
    if (name === null) return undefined;
    attributes.length = 0;
    const tag = tagEnd(body, nameEnd, name === 'meta' || name === 'html' ? attributes : null);
    if (tag === null) return undefined;
    at = tag.gt + 1;
    if (name === 'html') {
      if (htmlSeen) continue;
      htmlSeen = true;
      if (lang) {
        const found = value(body, attributes, 'lang');
        if (found === undefined) return undefined;
        raw.lang = found ?? undefined;
        lang = false;
      }
    } else if (name === 'meta') {
      if (!description) continue;
      const metaName = value(body, attributes, 'name');
      if (metaName === undefined) return undefined;
      if (!isDescription(metaName ?? undefined)) continue;
      const content = value(body, attributes, 'content');
      if (content === undefined) return undefined;
      raw.descriptionFound = true;
      raw.description = content ?? undefined;
      description = false;
    } else if (name === 'title' || name === 'script' || name === 'style') {
      // A self-closing special tag leaves the tokenizer outside its text state: its content is markup.
      if (tag.selfClosing) {
        if (name === 'title') return undefined;
        continue;
      }
      const end = specialEnd(body, tag.gt + 1, name);
      if (end === null) return undefined;
      if (name === 'title' && !titleSeen) {
        titleSeen = true;
        if (title) {
          const found = text(body, tag.gt + 1, end.textEnd);
          if (found === undefined) return undefined;
          raw.title = found;
          title = false;
        }
      }
      // The end tag runs to the next `>` (AfterClosingTagName).
      const gt = body.indexOf(GT, end.after);
      if (gt === -1) return undefined;
      at = gt + 1;
    }
  }
  return fieldsFrom(raw, '', spec);
}
