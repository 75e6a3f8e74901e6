import { FetchError, redactUrl } from '../errors.js';
import { RequestLine } from './request-lines.js';
import { OverlongLine, toUrlItem, type UrlItem } from './url-input.js';
import { describeValue } from '../describe-value.js';

/**
 * A request as a value: what `fetchAll` / `fetchEach` take besides a bare URL string, and what one line of a
 * `--requests` JSONL file holds. Only buffered bodies, so a 307/308 redirect or a retry can send the body again.
 */

/** The methods volley sends. */
export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type Method = (typeof METHODS)[number];

/** One request, as the user writes it. Only `url` is required. */
export interface VolleyRequest {
  /** An absolute http(s) URL. */
  url: string;
  /** Case-insensitive (`post` is POST). A `body` or `json` needs a method other than GET and HEAD. @default 'GET' (or the run's method) */
  method?: Method;
  /** This request's own headers; merged over the run's, case-insensitively (see {@link mergeHeaders}). */
  headers?: Record<string, string>;
  /** Sent as is: a string as UTF-8, bytes unchanged, URLSearchParams form-encoded. Not together with `json`. */
  body?: string | Uint8Array | URLSearchParams;
  /** Any JSON value, sent serialised with `content-type: application/json`. Not together with `body`. */
  json?: unknown;
  /** Anything JSON-serialisable: comes back untouched as `meta` on this request's result. */
  meta?: unknown;
  /** This request's own deadline per attempt, in ms; overrides the run's `timeoutMs`. */
  timeoutMs?: number;
  /** This request's own retry count; overrides the run's `retries`. */
  retries?: number;
}

/**
 * A request taken from the source, validated and numbered in input order. It is a {@link UrlItem} (so code that
 * takes URL items takes these): either `url` is set, or `error` says why it cannot be fetched, and then `url` is
 * null. `meta` is kept even then, whenever it is valid, so a failed row still names its record.
 */
export interface RequestItem extends UrlItem {
  method: Method;
  /**
   * This request's own headers, names lower-cased, with `content-type` set to `contentType` when there is a body.
   * Merge over the run's with `mergeHeaders(runHeaders, item.headers)`. Shared and frozen when empty: read only.
   */
  headers: Readonly<Record<string, string>>;
  /** The body's bytes, or null for none. Sent again on a retry and on a 307/308 redirect. */
  body: Uint8Array | null;
  /**
   * The body's media type, null without a body: the user's own `content-type` header when given, else
   * `application/x-www-form-urlencoded;charset=UTF-8` for URLSearchParams, `application/json` for `json`, and none
   * for a string or bytes.
   */
  contentType: string | null;
  /** The user's `meta`, untouched (the same object); undefined when not given. */
  meta: unknown;
  /** Set only when the request overrides the run's. */
  timeoutMs?: number;
  /** Set only when the request overrides the run's. */
  retries?: number;
}

/** What a request that does not say takes from the run (the CLI's `--method` for a plain URL list). */
export interface RequestDefaults {
  /** @default 'GET' */
  method?: Method;
}

/** The Fetch standard's type for a URLSearchParams body. */
export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded;charset=UTF-8';
export const JSON_CONTENT_TYPE = 'application/json';

/** Longest piece of a bad line or value echoed in a message. */
const ECHO_LIMIT = 200;
/** Same bounds as the run-wide options (options.ts): setTimeout overflows past this. */
const MAX_TIMER_MS = 2_147_483_647;
const MAX_RETRIES = 100;

const FIELDS = new Set(['url', 'method', 'headers', 'body', 'json', 'meta', 'timeoutMs', 'retries']);
const METHOD_SET: ReadonlySet<string> = new Set(METHODS);
/** RFC 9110 §5.6.2 token, as undici checks it. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What undici accepts in a header value: no control characters but tab (so no CR/LF injection). */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/**
 * Headers a request may not set itself: the length and framing come from the body, and undici refuses the rest
 * (it throws on transfer-encoding, keep-alive, upgrade and expect).
 */
const FRAMING_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'expect']);
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
const utf8 = new TextEncoder();

/**
 * The run's headers with a request's own over them; names compared case-insensitively, the merged result's names
 * lower-cased. Returns `run` itself, unchanged, when `own` is empty (no copy per request; the run's names are
 * lower-cased already by normalizeOptions): treat the result as read only.
 */
export function mergeHeaders(run: Readonly<Record<string, string>>, own: Readonly<Record<string, string>>): Record<string, string> {
  let merged: Record<string, string> | null = null;
  for (const name in own) {
    if (merged === null) {
      merged = {};
      for (const runName in run) merged[runName.toLowerCase()] = run[runName] as string;
    }
    merged[name.toLowerCase()] = own[name] as string;
  }
  return merged ?? (run as Record<string, string>);
}

/** `value` for a message: cut to ECHO_LIMIT characters, credentials stripped, with its type. */
const show = (value: unknown): string => describeValue(value, ECHO_LIMIT);

/** A piece of a line for a message: at most ECHO_LIMIT characters, credentials stripped, JSON-quoted. */
function echo(text: string): string {
  return JSON.stringify(redactUrl(text.length > ECHO_LIMIT ? `${text.slice(0, ECHO_LIMIT)}…` : text));
}

function invalid(message: string): FetchError {
  return new FetchError('INVALID_REQUEST', message);
}

/** A failed item: `input` is the URL as given when there is one, `meta` kept when it is valid. */
function failed(index: number, input: string, error: FetchError, meta: unknown = undefined): RequestItem {
  return { index, input, url: null, error, method: 'GET', headers: NO_HEADERS, body: null, contentType: null, meta };
}

/**
 * Why `value` would not survive JSON unchanged, or null when it would: a function, symbol, bigint, non-finite
 * number, Map/Set or cycle (JSON.stringify drops, nulls, empties or throws on each). `path` names where.
 */
function notJson(value: unknown, path: string, ancestors: object[] = []): string | null {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined': // an absent property; JSON leaves it out, as the user meant
      return null;
    case 'number':
      return Number.isFinite(value) ? null : `${path} is ${value}, which JSON writes as null`;
    case 'bigint':
    case 'function':
    case 'symbol':
      return `${path} is a ${typeof value}, which JSON cannot hold`;
  }
  if (value === null) return null;
  const object = value as object;
  if (ancestors.includes(object)) return `${path} refers to itself (a cycle)`;
  if (object instanceof Map || object instanceof Set) return `${path} is a ${object instanceof Map ? 'Map' : 'Set'}, which JSON writes as {}`;
  if (typeof (object as { toJSON?: unknown }).toJSON === 'function') return null; // a Date, say: serialises as its toJSON says
  ancestors.push(object);
  try {
    if (Array.isArray(object)) {
      for (let i = 0; i < object.length; i++) {
        if (object[i] === undefined) return `${path}[${i}] is undefined, which JSON writes as null`;
        const why = notJson(object[i], `${path}[${i}]`, ancestors);
        if (why) return why;
      }
      return null;
    }
    for (const [key, v] of Object.entries(object)) {
      const why = notJson(v, /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`, ancestors);
      if (why) return why;
    }
    return null;
  } finally {
    ancestors.pop();
  }
}

/** Nesting past this is left to `notJson`, which also finds cycles. */
const SAFE_DEPTH = 32;

/**
 * True when JSON keeps `value` as given: `notJson`'s verdict for the common case, without building the paths it
 * names (on a 1 KiB body that was most of a request's validation). False sends the value to `notJson` for why.
 */
function jsonSafe(value: unknown, depth = 0): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth >= SAFE_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (v === undefined || !jsonSafe(v, depth + 1)) return false;
    }
    return true;
  }
  if (value instanceof Map || value instanceof Set) return false;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return true;
  const object = value as Record<string, unknown>;
  for (const key of Object.keys(object)) if (!jsonSafe(object[key], depth + 1)) return false;
  return true;
}

function requestHeaders(value: unknown): Record<string, string> | FetchError {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return invalid(`\`headers\` must be an object of strings, got ${show(value)}`);
  }
  const out: Record<string, string> = {};
  const given = new Map<string, string>();
  for (const [name, v] of Object.entries(value)) {
    if (!HEADER_NAME.test(name)) return invalid(`\`headers\` has an invalid header name ${show(name)}`);
    const lower = name.toLowerCase();
    // Values are not echoed: headers carry tokens and cookies, and messages reach logs.
    if (typeof v !== 'string') return invalid(`\`headers\`: header \`${name}\` must be a string, got a ${v === null ? 'null' : typeof v}`);
    if (!HEADER_VALUE.test(v)) return invalid(`\`headers\`: header \`${name}\` has a control character (CR, LF or NUL) in its value`);
    if (FRAMING_HEADERS.has(lower)) return invalid(`\`headers\`: \`${name}\` cannot be set per request (volley and undici set it from the body)`);
    const twin = given.get(lower);
    if (twin !== undefined) return invalid(`\`headers\`: \`${twin}\` and \`${name}\` are the same header (names are case-insensitive)`);
    given.set(lower, name);
    out[lower] = v;
  }
  return out;
}

function integerField(name: 'timeoutMs' | 'retries', value: unknown, min: number, max: number): number | FetchError {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    return invalid(`\`${name}\` must be an integer from ${min} to ${max}, got ${show(value)}`);
  }
  return value;
}

/**
 * An item whose row is a failure known before the pipeline sees it (a crawl's sitemap that could not be read):
 * internal, never from a user's source.
 */
export class PresetFailure {
  constructor(
    readonly input: string,
    readonly error: FetchError,
  ) {}
}

/**
 * A source item, a URL string or a {@link VolleyRequest} object, as a {@link RequestItem}. Never throws: a bad
 * item becomes an item with an error, so it is one failed result and the run goes on.
 *
 * - A string is a GET (or `defaults.method`) of that URL: INVALID_URL / UNSUPPORTED_SCHEME as for a URL list. An
 *   `OverlongLine` (a URL list's line over 64 KiB) is an INVALID_URL, as there.
 * - A {@link RequestLine} (a `--requests` line) is its object, or its INVALID_REQUEST when it holds none.
 * - An object is checked field by field, and the first problem is an `INVALID_REQUEST` whose message names the
 *   field: `url` missing or not a string, an unknown field (a typo such as `metod` must not send a GET), an
 *   unknown method, bad `headers` (invalid names or values, framing headers such as content-length, one name
 *   twice in different case), `body` and `json` both, a body on GET or HEAD, a `body` of another type, a `json` or
 *   `meta` that JSON would not keep as given, `timeoutMs` or `retries` out of range. Then the URL is checked as
 *   for a string.
 *
 * @param index the item's position in the input; results come back with it
 */
export function toRequestItem(raw: unknown, index: number, defaults: RequestDefaults = {}): RequestItem {
  const defaultMethod = defaults.method ?? 'GET';
  if (raw instanceof PresetFailure) return failed(index, raw.input, raw.error);
  if (typeof raw === 'string' || raw instanceof OverlongLine) {
    const { input, url, error } = toUrlItem(raw, index);
    return { index, input, url, error, method: defaultMethod, headers: NO_HEADERS, body: null, contentType: null, meta: undefined };
  }
  if (raw instanceof RequestLine) {
    return raw.value instanceof FetchError ? failed(index, '', raw.value) : toRequestItem(raw.value, index, defaults);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || raw instanceof URL) {
    const what = raw instanceof URL ? 'a URL object (pass its href)' : show(raw);
    const input = typeof raw === 'object' && raw !== null ? '' : String(raw);
    return failed(index, input, invalid(`a request must be a URL string or an object with a \`url\`, got ${what}`));
  }
  const r = raw as Record<string, unknown>;
  const input = typeof r.url === 'string' ? r.url.trim() : '';

  // meta first, so every later failure can still carry it.
  let meta: unknown;
  if (r.meta !== undefined) {
    const why = jsonSafe(r.meta) ? null : notJson(r.meta, 'meta');
    if (why) return failed(index, input, invalid(`\`meta\` must be JSON-serialisable: ${why}`));
    meta = r.meta;
  }
  const fail = (error: FetchError): RequestItem => failed(index, input, error, meta);

  const unknown = Object.keys(r).find((key) => !FIELDS.has(key));
  const unknownField = unknown === undefined ? '' : `unknown field ${echo(unknown)}: a request has ${[...FIELDS].join(', ')}`;
  if (r.url === undefined) return fail(invalid(`\`url\` is missing${unknownField ? ` (and ${unknownField})` : ''}`));
  if (typeof r.url !== 'string') return fail(invalid(`\`url\` must be a string, got ${show(r.url)}`));
  if (unknownField) return fail(invalid(unknownField));

  let method: Method = defaultMethod;
  if (r.method !== undefined) {
    const upper = typeof r.method === 'string' ? r.method.toUpperCase() : null;
    if (upper === null || !METHOD_SET.has(upper)) return fail(invalid(`\`method\` must be one of ${METHODS.join(', ')}, got ${show(r.method)}`));
    method = upper as Method;
  }

  let headers: Record<string, string> = NO_HEADERS;
  if (r.headers !== undefined) {
    const h = requestHeaders(r.headers);
    if (h instanceof FetchError) return fail(h);
    if (Object.keys(h).length > 0) headers = h;
  }

  // `body: null` reads as "no body" (a JSONL writer's habit); `json: null` is the JSON value null.
  const hasBody = r.body !== undefined && r.body !== null;
  const hasJson = r.json !== undefined;
  if (hasBody && hasJson) return fail(invalid('`body` and `json` are both given: send one of them'));
  let body: Uint8Array | null = null;
  let impliedType: string | null = null;
  if (hasBody) {
    if (typeof r.body === 'string') body = utf8.encode(r.body);
    else if (r.body instanceof Uint8Array) body = r.body;
    else if (r.body instanceof URLSearchParams) {
      body = utf8.encode(r.body.toString());
      impliedType = FORM_CONTENT_TYPE;
    } else return fail(invalid(`\`body\` must be a string, a Uint8Array or URLSearchParams, got ${show(r.body)}; for a JSON value use \`json\``));
  } else if (hasJson) {
    const why = jsonSafe(r.json) ? null : notJson(r.json, 'json');
    if (why) return fail(invalid(`\`json\` must be a JSON value: ${why}`));
    body = utf8.encode(JSON.stringify(r.json));
    impliedType = JSON_CONTENT_TYPE;
  }
  if (body !== null && (method === 'GET' || method === 'HEAD')) {
    return fail(invalid(`\`method\` ${method} cannot carry a ${hasJson ? '`json`' : '`body`'}: set \`method\` to POST, PUT or PATCH`));
  }
  let contentType: string | null = null;
  if (body !== null) {
    contentType = headers['content-type'] ?? impliedType;
    if (contentType !== null && headers['content-type'] === undefined) headers = { ...headers, 'content-type': contentType };
  }

  let timeoutMs: number | undefined;
  if (r.timeoutMs !== undefined) {
    const t = integerField('timeoutMs', r.timeoutMs, 1, MAX_TIMER_MS);
    if (t instanceof FetchError) return fail(t);
    timeoutMs = t;
  }
  let retries: number | undefined;
  if (r.retries !== undefined) {
    const n = integerField('retries', r.retries, 0, MAX_RETRIES);
    if (n instanceof FetchError) return fail(n);
    retries = n;
  }

  const { url, error } = toUrlItem(r.url, index);
  const item: RequestItem = { index, input, url, error, method, headers, body, contentType, meta };
  if (timeoutMs !== undefined) item.timeoutMs = timeoutMs;
  if (retries !== undefined) item.retries = retries;
  return item;
}

/**
 * One line of a `--requests` JSONL file as a {@link RequestItem}: a JSON object per line, as {@link VolleyRequest}
 * (a `body` can only be a string there). A line that is not JSON, or is JSON but not an object, is an
 * `INVALID_REQUEST` item whose message says which and echoes at most 200 characters of the line (see
 * {@link RequestLine}). Blank and `#` lines are the line reader's to skip (source/request-lines.ts); a UTF-8 byte
 * order mark at the start is ignored.
 */
export function parseRequestLine(line: string, index: number, defaults: RequestDefaults = {}): RequestItem {
  return toRequestItem(new RequestLine(line), index, defaults);
}
