import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WARCParser } from 'warcio';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FetchError } from '../src/errors.js';

// A full disk in the middle of a run cannot be made for real as root, so the WARC file's handle is wrapped: for a file
// named `disk-fills*`, the second write (the first exchange after warcinfo) gets half its bytes down, then ENOSPC.
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    async open(...args: Parameters<typeof real.open>) {
      const handle = await real.open(...args);
      if (String(args[0]).includes('disk-fills')) {
        const write = handle.write.bind(handle) as (b: Uint8Array, o: number, l: number, p: number | null) => Promise<{ bytesWritten: number }>;
        let calls = 0;
        (handle as unknown as { write: typeof write }).write = async (buffer, offset, length, position) => {
          calls++;
          if (calls !== 2) return write(buffer, offset, length, position);
          await write(buffer, offset, Math.floor(length / 2), position);
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        };
      }
      return handle;
    },
  };
});

const { WarcWriter } = await import('../src/keep/warc.js');

const exchange = (path: string) => ({
  url: `http://127.0.0.1:1/${path}`,
  method: 'GET',
  requestHeaders: {},
  date: new Date(0),
  status: 200,
  statusText: 'OK',
  httpVersion: '1.1',
  responseHeaders: { 'content-type': 'text/plain' },
  payload: new TextEncoder().encode(`body of ${path}`),
  contentEncoding: null,
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'volley-warc-fail-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('WarcWriter when the disk fills', () => {
  it.each([
    ['a new file', false],
    ['a file opened to append', true],
  ])('%s: rejects that exchange with WRITE, cuts the torn bytes off, goes on, and close() reports it', async (_name, append) => {
    const path = join(dir, 'disk-fills.warc');
    const writer = await WarcWriter.open(path, { append });
    const afterInfo = writer.bytesWritten;
    const failed = writer.writeExchange(exchange('first')).catch((e: unknown) => e);
    const next = writer.writeExchange(exchange('second'));
    const err = await failed;
    expect(err).toBeInstanceOf(FetchError);
    expect((err as FetchError).code).toBe('WRITE');
    expect((err as FetchError).message).toBe(`could not write the WARC file ${JSON.stringify(path)} (ENOSPC): no space left on device`);
    await next;
    expect(writer.bytesWritten).toBeGreaterThan(afterInfo);
    await expect(writer.close()).rejects.toBe(err);
    const bytes = await readFile(path);
    expect(bytes.includes(0)).toBe(false);

    // The file holds warcinfo and the second exchange, whole: the half-written first one was cut off.
    const targets: (string | null | undefined)[] = [];
    for await (const record of WARCParser.iterRecords([await readFile(path)])) {
      await record.readFully(true);
      targets.push(record.warcTargetURI ?? record.warcType);
    }
    expect(targets).toEqual(['warcinfo', 'http://127.0.0.1:1/second', 'http://127.0.0.1:1/second']);
  });
});
