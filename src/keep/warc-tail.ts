import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { WARCParser } from 'warcio';

interface Seen {
  start: number;
  type: string;
  /** Raw (for gzip: compressed) length the parser consumed for the record. */
  length: number;
}

/** Reads `length` bytes at `position` (fewer at the end of the file). */
async function readAt(path: string, position: number, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Where an uncompressed record starting at `start` ends (its block and the CRLFCRLF after it), or null if unreadable. */
async function plainRecordEnd(path: string, start: number): Promise<number | null> {
  const head = await readAt(path, start, 64 * 1024);
  const headEnd = head.indexOf('\r\n\r\n');
  if (headEnd < 0) return null;
  const length = /\r\nContent-Length:\s*(\d+)\r\n/iu.exec(head.subarray(0, headEnd + 2).toString('latin1'))?.[1];
  return length === undefined ? null : start + headEnd + 4 + Number(length) + 4;
}

/** True when `bytes` is exactly one whole gzip member holding one whole record. */
function isWholeMember(bytes: Buffer): boolean {
  try {
    const record = gunzipSync(bytes);
    return record.subarray(-4).toString('latin1') === '\r\n\r\n';
  } catch {
    return false;
  }
}

/**
 * The length of the part of a WARC file that holds only whole records and whole exchanges: what a run killed in
 * the middle of a write (SIGKILL, power loss) left before the torn tail. Appending after a torn record would make
 * every later record unreadable, so a resumed run cuts the file to this length first. A lone `request` at the end
 * goes too: volley writes a request and its response in one write, so one without the other is a torn exchange.
 *
 * Reads the whole file once through warcio's parser (a resumed run pays one sequential read, or one gunzip).
 */
export async function completeWarcLength(path: string, size: number, gzip: boolean): Promise<number> {
  if (size === 0) return 0;
  const seen: Seen[] = [];
  let torn: number | null = null;
  const stream = createReadStream(path);
  const parser = new WARCParser(stream, { parseHttp: false });
  try {
    for (;;) {
      const record = await parser.parse();
      if (!record) break;
      const start = parser.offset;
      const block = await record.readFully(false);
      const whole = /^WARC\/1\.[01]$/u.test(record.warcHeaders.statusline) && block.length === record.warcContentLength;
      if (!whole) {
        torn = start;
        break;
      }
      seen.push({ start, type: record.warcType, length: parser.recordLength });
    }
  } catch {
    torn = parser.offset;
  } finally {
    stream.destroy();
  }

  let end = torn ?? size;
  const last = seen.at(-1);
  if (last === undefined) return 0;
  if (torn === null) {
    // Every record parsed; the last may still lack its closing bytes (CRLFCRLF, or the gzip trailer), or be
    // followed by the first bytes of one that never got its header written.
    if (gzip) {
      // The member as far as the parser read it; a torn write may have left the first bytes of another after it.
      const memberEnd = Math.min(size, last.start + last.length);
      if (!isWholeMember(await readAt(path, last.start, memberEnd - last.start))) end = last.start;
      else if (memberEnd < size) end = memberEnd;
    } else {
      const recordEnd = await plainRecordEnd(path, last.start);
      if (recordEnd === null || recordEnd > size) end = last.start;
      else if (recordEnd < size) end = recordEnd;
    }
  }
  const final = seen.filter((s) => s.start < end).at(-1);
  if (final?.type === 'request') end = final.start;
  return end;
}
