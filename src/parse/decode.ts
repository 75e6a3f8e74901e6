import { decodeBuffer } from 'encoding-sniffer';
import MIMEType from 'whatwg-mimetype';

/**
 * Bytes to text by the WHATWG HTML rules: a BOM wins, then the Content-Type charset, then a `<meta charset>`
 * prescan of the first 1024 bytes, then windows-1252. An unknown label is skipped, never fatal (crawlee#2901).
 * encoding-sniffer implements the sniffing; @exodus/bytes under it supplies the WHATWG decoders.
 */
export function decodeHtml(body: Uint8Array, contentType: string | null): string {
  const charset = contentType ? (MIMEType.parse(contentType)?.parameters.get('charset') ?? undefined) : undefined;
  const buffer = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return decodeBuffer(buffer, charset ? { transportLayerEncodingLabel: charset } : {});
}

const HTML_ESSENCES = new Set(['text/html', 'application/xhtml+xml']);

/** XML documents declare their encoding in `<?xml … encoding="…"?>` (XML 1.0 §4.3.3) and default to UTF-8. */
function isXml(essence: string): boolean {
  return essence === 'text/xml' || essence === 'application/xml' || essence.endsWith('+xml');
}

/**
 * Any body as text, by its type. HTML (and a body with no or an unparseable Content-Type, which a browser would
 * sniff as a page) goes through decodeHtml. Other types: a BOM wins, then the Content-Type charset, then UTF-8 —
 * the default of JSON (RFC 8259 §8.1), XML, JavaScript (the Encoding Standard's "UTF-8 decode") and of text
 * today. XML also honours its declaration. Same sniffer and decoders as HTML: with `maxBytes: 3` it sees the BOM
 * and nothing else, so no `<meta>` inside a JSON string can change how JSON is read.
 */
export function decodeText(body: Uint8Array, contentType: string | null): string {
  const mime = contentType ? MIMEType.parse(contentType) : null;
  if (!mime || HTML_ESSENCES.has(mime.essence)) return decodeHtml(body, contentType);
  const charset = mime.parameters.get('charset');
  const buffer = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return decodeBuffer(buffer, {
    ...(charset ? { transportLayerEncodingLabel: charset } : {}),
    defaultEncoding: 'utf-8',
    maxBytes: isXml(mime.essence) ? 1024 : 3,
  });
}
