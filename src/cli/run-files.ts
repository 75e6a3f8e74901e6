import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { normalizeTls, type TlsOptions } from '../fetch/tls.js';
import { JSON_CONTENT_TYPE, type VolleyRequest } from '../source/requests.js';
import type { CliBody, TlsFiles } from './flags.js';
import type { Input } from './inputs.js';
import { UsageError } from './usage-error.js';

/**
 * What a run reads before it starts, named by flags: the PEM files of `--ca`, `--cert`, `--key` and the `@FILE` of
 * `-d` / `--json`. Read here, when the run starts, so that parsing the command line touches nothing; a file that
 * cannot be read, or does not hold what its flag needs, is a usage error (exit 2) naming the flag and the path.
 */

/** curl's `-d` type: a form, unless `-H` says otherwise. */
const DATA_CONTENT_TYPE = 'application/x-www-form-urlencoded';

async function readNamed(flag: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`${flag}: no such file: ${path}`);
    if (code === 'EISDIR') throw new UsageError(`${flag}: ${path} is a directory, not a file`);
    throw new UsageError(`${flag}: cannot read ${path}: ${(err as Error).message}`);
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer | string>) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

const PEM_FLAGS = { ca: '--ca', cert: '--cert', key: '--key' } as const;

/**
 * The run's `tls` option with the PEM files read in: `base` (from `-k`) plus `ca`, `cert` and `key`, checked as
 * the library checks them (a certificate that does not parse, a key that is not the certificate's), with the
 * library's message reworded to name the flag and the file. `base` as it is when no file is named.
 */
export async function tlsWithFiles(files: TlsFiles, base: TlsOptions | undefined): Promise<TlsOptions | undefined> {
  if (files.ca === null && files.cert === null && files.key === null) return base;
  const tls: TlsOptions = { ...base };
  for (const name of ['ca', 'cert', 'key'] as const) {
    const path = files[name];
    if (path === null) continue;
    const pem = await readNamed(PEM_FLAGS[name], path);
    if (!pem.includes('-----BEGIN')) throw new UsageError(`${PEM_FLAGS[name]} ${path}: no PEM block (-----BEGIN …-----) in the file`);
    tls[name] = pem;
  }
  try {
    normalizeTls(tls);
  } catch (err) {
    const message = (err as Error).message;
    const name = /`tls\.(ca|cert|key)`/.exec(message)?.[1] as keyof typeof PEM_FLAGS | undefined;
    const named = name === undefined ? '' : `${PEM_FLAGS[name]} ${files[name]}: `;
    throw new UsageError(`${named}${message.replace(/`tls\.(ca|cert|key)`/g, (_m, n: keyof typeof PEM_FLAGS) => PEM_FLAGS[n])}`);
  }
  return tls;
}

/** The body every plain URL is sent with (`-d`, `--json`), read once and shared, with the headers that describe it. */
export interface PlainBody {
  bytes: Uint8Array;
  /** Content-Type (and for `--json`, Accept) unless the run's own `-H` headers set them. */
  headers: Record<string, string>;
}

/**
 * Reads the body of `-d` / `--json`: the text as typed, `@FILE` the file's bytes unchanged (curl's `-d @FILE` drops
 * line breaks; volley sends what the file holds, as curl's `--data-binary` does), `@-` stdin. `--json` must be
 * JSON. Null without either flag.
 */
export async function readPlainBody(body: CliBody | null, runHeaders: Record<string, string> | undefined, plan: Input[], stdin: Readable): Promise<PlainBody | null> {
  if (body === null) return null;
  const flag = body.flag === 'data' ? '-d/--data' : '--json';
  let bytes: Buffer;
  if (body.value === '@-') {
    if (plan.some((i) => i.kind !== 'url' && i.path === '-')) throw new UsageError(`stdin (-) can be read only once: it is both a list and the body of ${flag} @-`);
    bytes = await readAll(stdin);
  } else if (body.value.startsWith('@')) {
    bytes = await readNamed(flag, body.value.slice(1));
  } else {
    bytes = Buffer.from(body.value, 'utf8');
  }
  if (body.flag === 'json' && body.value.startsWith('@')) {
    try {
      JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw new UsageError(`--json ${body.value}: not JSON: ${(err as Error).message}`);
    }
  }
  const given = new Set(Object.keys(runHeaders ?? {}).map((name) => name.toLowerCase()));
  const headers: Record<string, string> = {};
  const contentType = body.flag === 'data' ? DATA_CONTENT_TYPE : JSON_CONTENT_TYPE;
  if (!given.has('content-type')) headers['content-type'] = contentType;
  if (body.flag === 'json' && !given.has('accept')) headers.accept = JSON_CONTENT_TYPE;
  return { bytes, headers };
}

/** A plain URL as the request that carries the body; anything else (a request line, an overlong line) as it is. */
export function withPlainBody<T>(item: T, body: PlainBody): T | VolleyRequest {
  return typeof item === 'string' ? { url: item, headers: body.headers, body: body.bytes } : item;
}
