import MIMEType from 'whatwg-mimetype';

const HTML_TYPES = new Set(['text/html', 'application/xhtml+xml']);

/** Answers for the Content-Type values seen lately: a run sees a handful of distinct values thousands of times. */
const htmlCache = new Map<string, boolean>();

/** Whether a response is a page for the parser (its MIME essence is HTML or XHTML). Loads no parser. */
export function isHtml(contentType: string | null): boolean {
  if (contentType === null) return false;
  let answer = htmlCache.get(contentType);
  if (answer === undefined) {
    const essence = MIMEType.parse(contentType)?.essence;
    answer = essence !== undefined && HTML_TYPES.has(essence);
    if (htmlCache.size >= 256) htmlCache.clear();
    htmlCache.set(contentType, answer);
  }
  return answer;
}
