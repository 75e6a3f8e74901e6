import { TextDecoder } from '@exodus/bytes/encoding.js';
import { decodeBuffer } from 'encoding-sniffer';
import { getEncoding } from 'encoding-sniffer/sniffer';
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

/**
 * Bytes a piece of decoded HTML stands for (decodeHtmlPieces). A piece stays below V8's large-object size
 * (128 KiB; a two-byte string of 32 Ki characters is 64 KiB): a whole 150 KB page as one string is a large
 * object, and allocating one cost ~1.4 ms of the parse thread's ~4 ms per W3 page (`node --cpu-prof`; 32 KiB
 * pieces: ~0.05 ms for the whole page).
 */
export const PIECE_BYTES = 32 * 1024;

/**
 * decodeHtml's text, handed over in pieces: the same encoding sniffed the same way, then decoded as a stream
 * (the Encoding Standard defines streaming decode to give exactly the one-shot result, split anywhere). For
 * htmlparser2, which takes its input in chunks. `onPiece` returns false to stop (the rest is not decoded).
 */
export function decodeHtmlPieces(body: Uint8Array, contentType: string | null, onPiece: (text: string) => boolean, pieceBytes = PIECE_BYTES): void {
  const charset = contentType ? (MIMEType.parse(contentType)?.parameters.get('charset') ?? undefined) : undefined;
  const buffer = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const decoder = new TextDecoder(getEncoding(buffer, charset ? { transportLayerEncodingLabel: charset } : {}));
  for (let at = 0; at < buffer.byteLength; at += pieceBytes) {
    const piece = decoder.decode(buffer.subarray(at, Math.min(at + pieceBytes, buffer.byteLength)), { stream: true });
    if (piece !== '' && !onPiece(piece)) return;
  }
  const rest = decoder.decode();
  if (rest !== '') onPiece(rest);
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
