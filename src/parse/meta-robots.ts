/**
 * `<meta name="robots">`: which elements count, how their contents combine, and what they say about following
 * links. One definition for the streaming scan (stream.ts) and the DOM path (extract-dom.ts), so the two cannot drift.
 */

/**
 * Whether a `<meta>`'s `name` is `robots`: compared ASCII case-insensitively as HTML compares metadata names
 * (§4.2.5.1; a non-`u` regex's `i` never folds a non-ASCII letter onto an ASCII one), after trimming ASCII
 * whitespace. The HTML standard does not trim; we do, because reading a directive the author plainly meant is the
 * safe side for a crawler.
 */
const ROBOTS_NAME = /^[\t\n\f\r ]*robots[\t\n\f\r ]*$/i;

export function isRobotsName(name: string | undefined): boolean {
  return name != null && name.length >= 6 && ROBOTS_NAME.test(name);
}

const ASCII_WHITESPACE_EDGES = /^[\t\n\f\r ]+|[\t\n\f\r ]+$/g;

/**
 * The `content` of every robots meta, in document order (undefined where the attribute is absent), as one value:
 * each trimmed, blank ones left out, joined with ", " since robots directives accumulate (a page saying `noindex`
 * in one meta and `nofollow` in another means both). Null when none says anything.
 */
export function joinRobotsContents(contents: readonly (string | undefined)[]): string | null {
  const parts: string[] = [];
  for (const content of contents) {
    const trimmed = content?.replace(ASCII_WHITESPACE_EDGES, '');
    if (trimmed) parts.push(trimmed);
  }
  return parts.length === 0 ? null : parts.join(', ');
}

const TOKEN_SEPARATORS = /[\t\n\f\r ,]+/;

/**
 * Whether a page's meta robots content (`ParsedFields.metaRobots`) forbids following its links: a `nofollow` or
 * `none` (= `noindex, nofollow`) token, tokens separated by commas and/or ASCII whitespace, compared ASCII
 * case-insensitively. Null (no robots meta) allows following.
 *
 * @example robotsNofollow('noindex, NOFOLLOW') // true
 * @example robotsNofollow('noindex') // false
 */
export function robotsNofollow(content: string | null): boolean {
  if (content === null) return false;
  for (const token of content.split(TOKEN_SEPARATORS)) {
    if (token.length !== 4 && token.length !== 8) continue;
    const lower = token.replace(/[A-Z]+/g, (s) => s.toLowerCase());
    if (lower === 'nofollow' || lower === 'none') return true;
  }
  return false;
}
