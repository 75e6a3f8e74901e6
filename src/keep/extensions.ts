import MIMEType from 'whatwg-mimetype';

/**
 * The file extension (no dot) for the types the web actually serves. A curated table rather than mime-db
 * (`mime-types`, `mime`): those map 1,000+ types we never see and pick names users do not expect for common ones
 * (`audio/mpeg` → `mpga`, `image/jpeg` → `jpeg`), and the fallback for anything missing is simply no extension.
 */
const EXTENSIONS: ReadonlyMap<string, string> = new Map([
  ['text/html', 'html'],
  ['application/xhtml+xml', 'xhtml'],
  ['text/plain', 'txt'],
  ['text/css', 'css'],
  ['text/csv', 'csv'],
  ['text/tab-separated-values', 'tsv'],
  ['text/markdown', 'md'],
  ['text/calendar', 'ics'],
  ['text/vtt', 'vtt'],
  ['text/xml', 'xml'],
  ['application/xml', 'xml'],
  ['application/rss+xml', 'rss'],
  ['application/atom+xml', 'atom'],
  ['image/svg+xml', 'svg'],
  ['application/json', 'json'],
  ['application/ld+json', 'jsonld'],
  ['application/geo+json', 'geojson'],
  ['application/manifest+json', 'webmanifest'],
  ['application/x-ndjson', 'ndjson'],
  ['text/javascript', 'js'],
  ['application/javascript', 'js'],
  ['application/x-javascript', 'js'],
  ['application/wasm', 'wasm'],
  ['application/pdf', 'pdf'],
  ['application/zip', 'zip'],
  ['application/gzip', 'gz'],
  ['application/x-gzip', 'gz'],
  ['application/x-tar', 'tar'],
  ['application/x-7z-compressed', '7z'],
  ['application/x-bzip2', 'bz2'],
  ['application/x-xz', 'xz'],
  ['application/zstd', 'zst'],
  ['application/epub+zip', 'epub'],
  ['application/rtf', 'rtf'],
  ['application/msword', 'doc'],
  ['application/vnd.ms-excel', 'xls'],
  ['application/vnd.ms-powerpoint', 'ppt'],
  ['application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'docx'],
  ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'xlsx'],
  ['application/vnd.openxmlformats-officedocument.presentationml.presentation', 'pptx'],
  ['application/vnd.oasis.opendocument.text', 'odt'],
  ['application/vnd.oasis.opendocument.spreadsheet', 'ods'],
  ['application/octet-stream', 'bin'],
  ['image/png', 'png'],
  ['image/jpeg', 'jpg'],
  ['image/gif', 'gif'],
  ['image/webp', 'webp'],
  ['image/avif', 'avif'],
  ['image/bmp', 'bmp'],
  ['image/tiff', 'tif'],
  ['image/x-icon', 'ico'],
  ['image/vnd.microsoft.icon', 'ico'],
  ['image/heic', 'heic'],
  ['audio/mpeg', 'mp3'],
  ['audio/mp4', 'm4a'],
  ['audio/aac', 'aac'],
  ['audio/ogg', 'ogg'],
  ['audio/opus', 'opus'],
  ['audio/wav', 'wav'],
  ['audio/x-wav', 'wav'],
  ['audio/webm', 'weba'],
  ['audio/flac', 'flac'],
  ['video/mp4', 'mp4'],
  ['video/webm', 'webm'],
  ['video/ogg', 'ogv'],
  ['video/quicktime', 'mov'],
  ['video/x-msvideo', 'avi'],
  ['video/mp2t', 'ts'],
  ['application/vnd.apple.mpegurl', 'm3u8'],
  ['application/x-mpegurl', 'm3u8'],
  ['application/dash+xml', 'mpd'],
  ['font/woff', 'woff'],
  ['font/woff2', 'woff2'],
  ['font/ttf', 'ttf'],
  ['font/otf', 'otf'],
]);

/**
 * The extension for a Content-Type, without the dot, or null when the type is missing or not in the table.
 * Structured syntax suffixes (RFC 6839) fall back to their base: `application/vnd.api+json` → `json`.
 */
export function extensionForType(contentType: string | null | undefined): string | null {
  if (!contentType) return null;
  const essence = MIMEType.parse(contentType)?.essence;
  if (!essence) return null;
  const known = EXTENSIONS.get(essence);
  if (known) return known;
  if (essence.endsWith('+json')) return 'json';
  if (essence.endsWith('+xml')) return 'xml';
  return null;
}

/**
 * The extension a file name already has, without the dot, or null. Only a short run of letters and digits with at
 * least one letter counts, so `v1.2` or `report.final-draft` read as having none and get one from the type.
 */
export function extensionOf(name: string): string | null {
  const m = /\.((?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{1,10})$/.exec(name);
  return m && m.index > 0 ? m[1]! : null;
}
