import { TextDecoder } from '@exodus/bytes/encoding.js';
import { decodeBuffer } from 'encoding-sniffer';
import { getEncoding, ResultType, Sniffer } from 'encoding-sniffer/sniffer';
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
 * The first piece's bytes when the reader may stop early (a scan for head fields only, stream.ts): the pieces
 * then double from here up to PIECE_BYTES, so that a title in the first KiB does not cost decoding 32 of them.
 */
export const FIRST_PIECE_BYTES = 1024;

/**
 * decodeHtml's text, handed over in pieces: the same encoding sniffed the same way, then decoded as a stream
 * (the Encoding Standard defines streaming decode to give exactly the one-shot result, split anywhere). For
 * htmlparser2, which takes its input in chunks. `onPiece` returns false to stop (the rest is not decoded). Pieces
 * start at `firstPieceBytes` and double up to `pieceBytes`.
 */
export function decodeHtmlPieces(
  body: Uint8Array,
  contentType: string | null,
  onPiece: (text: string) => boolean,
  pieceBytes = PIECE_BYTES,
  firstPieceBytes = pieceBytes,
): void {
  const buffer = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const decoder = decoderFor(getEncoding(buffer, sniffOptions(contentType)));
  let flushed = false;
  try {
    for (let at = 0, size = Math.min(firstPieceBytes, pieceBytes); at < buffer.byteLength; at += size, size = Math.min(size * 2, pieceBytes)) {
      const piece = decoder.decode(buffer.subarray(at, Math.min(at + size, buffer.byteLength)), { stream: true });
      if (piece !== '' && !onPiece(piece)) return;
    }
    flushed = true;
    const rest = decoder.decode();
    if (rest !== '') onPiece(rest);
  } finally {
    // The decoder serves the next page of its encoding: a page left early (or failing) must not leave it the
    // half of a character. A decode without `stream` ends the stream and resets the decoder (Encoding Standard).
    if (!flushed) decoder.decode();
  }
}

/**
 * The sniffer's options for a Content-Type, kept per Content-Type string (a crawl sees few): parsing the MIME type
 * and resolving its label cost more than a small page's parse. A charset that names an encoding can only be
 * overridden by a byte order mark (HTML §13.2.3.2: the BOM comes first, then the transport layer, which is
 * certain, so the `<meta>` prescan is skipped); the sniffer is then given the 3 bytes a BOM may take, not 1024.
 */
function sniffOptions(contentType: string | null): SnifferOptions {
  if (contentType === null) return NO_CHARSET;
  let options = sniffing.get(contentType);
  if (options === undefined) {
    const charset = MIMEType.parse(contentType)?.parameters.get('charset') ?? undefined;
    if (!charset) options = NO_CHARSET;
    else {
      const certain = new Sniffer({ transportLayerEncodingLabel: charset }).resultType === ResultType.PASSED;
      options = certain ? { transportLayerEncodingLabel: charset, maxBytes: 3 } : { transportLayerEncodingLabel: charset };
    }
    if (sniffing.size >= MAX_CACHED) sniffing.clear();
    sniffing.set(contentType, options);
  }
  return options;
}

type SnifferOptions = NonNullable<Parameters<typeof getEncoding>[1]>;
const NO_CHARSET: SnifferOptions = {};
const MAX_CACHED = 256;
const sniffing = new Map<string, SnifferOptions>();
/** One decoder per encoding, reused page after page: making one costs more than decoding a small page. */
const decoders = new Map<string, InstanceType<typeof TextDecoder>>();

function decoderFor(encoding: string): InstanceType<typeof TextDecoder> {
  let decoder = decoders.get(encoding);
  if (decoder === undefined) decoders.set(encoding, (decoder = new TextDecoder(encoding)));
  return decoder;
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
