import { extensionOf } from './extensions.js';
import { lazyBuiltin } from '../lazy-builtin.js';

// Required on the first hashed name only: the CLI's flag table loads this module on every run (to check
// --save-name), and a run that saves nothing should not pay for node:crypto.
const nodeCrypto = lazyBuiltin('node:crypto');
const createHash = (algorithm: string) => nodeCrypto().createHash(algorithm);

/**
 * One part of a saved file's path, made safe on every file system volley may run on or whose files may be copied
 * to: Linux/ext4, macOS/APFS, Windows/NTFS and FAT. `%` is the escape character (as in URLs), so an escaped name
 * never reads as another: a literal `%` becomes `%25`.
 */

/** Longest name part, in UTF-8 bytes. NAME_MAX is 255 on ext4, APFS and NTFS; 200 leaves room for `-N` suffixes. */
export const MAX_SEGMENT_BYTES = 200;

/** Prefix of the temporary files of atomic writes (atomic-write.ts); no saved name may start with it. */
export const TEMP_PREFIX = '.volley-tmp-';

/**
 * Refused by a file system, or by Windows' path parser: C0 controls and DEL, the separators `/` and `\`, and
 * `< > : " | ? *` (Microsoft, "Naming Files, Paths, and Namespaces"). `%` is ours, so it is escaped too.
 */
const REFUSED = /[\u0000-\u001f\u007f/\\<>:"|?*%]/gu;

/**
 * Windows device names, which open the device instead of a file in any directory and with any extension
 * (`nul.txt`, `COM1.tar.gz`), also after trailing spaces; the superscript digits count as digits there.
 */
const DEVICE = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/iu;

function percent(ch: string): string {
  return [...Buffer.from(ch, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
}

/** True for a name Windows maps to a device, whatever its extension. */
export function isDeviceName(segment: string): boolean {
  const stem = segment.split('.')[0]!.replace(/[ .]+$/u, '');
  return DEVICE.test(stem);
}

/** Escapes the characters a file system refuses (and `%`), as `%XX` of their UTF-8 bytes. */
export function escapeChars(text: string): string {
  return text.replace(REFUSED, percent);
}

/**
 * The rules that look at a whole name part: `.` and `..`, trailing dots and spaces (Windows drops them, so `a.`
 * would become `a`), device names (first letter escaped), the temporary-file prefix. Takes escaped text.
 */
export function finishSegment(escaped: string): string {
  if (escaped === '.' || escaped === '..') return escaped.replace(/\./gu, '%2E');
  let s = escaped.replace(/[ .]+$/u, (tail) => [...tail].map(percent).join(''));
  if (isDeviceName(s) || s.startsWith(TEMP_PREFIX)) s = percent(s[0]!) + s.slice(1);
  return s;
}

/**
 * One decoded name part, made safe: escapeChars then finishSegment. Does not shorten (see fitSegment). An empty
 * string stays empty; the caller decides what an empty part means.
 */
export function escapeSegment(raw: string): string {
  return finishSegment(escapeChars(raw));
}

/** Cuts a string to at most `maxBytes` of UTF-8 without splitting a character. */
function cutUtf8(s: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > maxBytes) break;
    bytes += n;
    end += ch.length;
  }
  return s.slice(0, end);
}

/**
 * A name part longer than MAX_SEGMENT_BYTES keeps its start and its extension, with `~` and 16 hex digits of the
 * SHA-256 of the whole part in between: long names stay recognisable, and two that share a start stay apart.
 */
export function fitSegment(segment: string, maxBytes = MAX_SEGMENT_BYTES): string {
  if (Buffer.byteLength(segment, 'utf8') <= maxBytes) return segment;
  const ext = extensionOf(segment);
  const tail = `~${createHash('sha256').update(segment).digest('hex').slice(0, 16)}${ext ? `.${ext}` : ''}`;
  const stem = ext ? segment.slice(0, -(ext.length + 1)) : segment;
  return cutUtf8(stem, maxBytes - tail.length) + tail;
}

/**
 * The check the writer makes on every part of a relative path it is handed, whoever made it: what escapeSegment
 * and fitSegment produce always passes.
 */
export function isSafeSegment(segment: string): boolean {
  if (segment === '' || segment === '.' || segment === '..') return false;
  if (/[\u0000-\u001f\u007f/\\<>:"|?*]/u.test(segment)) return false;
  if (/[ .]$/u.test(segment)) return false;
  if (isDeviceName(segment) || segment.startsWith(TEMP_PREFIX)) return false;
  return Buffer.byteLength(segment, 'utf8') <= 255;
}
