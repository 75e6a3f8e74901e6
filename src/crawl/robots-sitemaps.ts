/**
 * The sitemap URLs a robots.txt announces: the values of its `Sitemap:` lines (the field name in any case, anywhere
 * in the file, outside any group: https://www.sitemaps.org/protocol.html#submit_robots and RFC 9309 section 2.2.4),
 * in file order, each once. A `#` starts a comment, as everywhere in robots.txt. Values are trimmed but not
 * validated: the caller's URL checks apply (the protocol asks for absolute URLs).
 */
export function sitemapsInRobots(text: string): string[] {
  const found = new Set<string>();
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const line = raw.replace(/^\uFEFF/, '');
    const hash = line.indexOf('#');
    const content = hash === -1 ? line : line.slice(0, hash);
    const colon = content.indexOf(':');
    if (colon === -1 || content.slice(0, colon).trim().toLowerCase() !== 'sitemap') continue;
    const value = content.slice(colon + 1).trim();
    if (value) found.add(value);
  }
  return [...found];
}
