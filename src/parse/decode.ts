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
