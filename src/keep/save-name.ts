import { extensionForType, extensionOf } from './extensions.js';
import { escapeChars, finishSegment, fitSegment, isSafeSegment } from './file-segment.js';

/** The `--save-name` default: one directory per host, the URL path below it (wget's `-x` layout). */
export const DEFAULT_SAVE_NAME = '{host}/{path}';

const PLACEHOLDERS = ['host', 'path', 'sha256', 'index', 'ext'] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];
type Part = { literal: string } | { placeholder: Placeholder };

/** What a name is made from: the URL the body came from and what is known about the body. */
export interface SaveNameInput {
  /** The URL of the response whose body is saved (after redirects). */
  url: string | URL;
  contentType?: string | null;
  /** The input line number, for `{index}`. */
  index?: number;
  /** Hex SHA-256 of the body, for `{sha256}` (see `SaveNamer.usesSha256`). */
  sha256?: string;
}

function describe(value: unknown): string {
  return `\`${typeof value === 'string' ? value : String(value)}\` (${value === null ? 'null' : typeof value})`;
}

/** Characters a template's own text may not contain: what a file system refuses, and `\` (a separator on Windows). */
const REFUSED_LITERAL = /[\u0000-\u001f\u007f\\<>:"|?*]/u;

/** Splits and checks a template once, so a bad one fails at start-up with a message that names the problem. */
function parseTemplate(template: unknown): Part[] {
  if (typeof template !== 'string' || template.trim() === '') {
    throw new TypeError(`Expected the save name template to be a non-empty string, got ${describe(template)}`);
  }
  const parts: Part[] = [];
  const re = /\{([^{}]*)\}/gu;
  let last = 0;
  for (let m = re.exec(template); m; m = re.exec(template)) {
    if (m.index > last) parts.push({ literal: template.slice(last, m.index) });
    const name = m[1]!;
    if (!(PLACEHOLDERS as readonly string[]).includes(name)) {
      throw new TypeError(
        `Unknown placeholder \`{${name}}\` in the save name template ${describe(template)}; expected ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`,
      );
    }
    parts.push({ placeholder: name as Placeholder });
    last = re.lastIndex;
  }
  if (last < template.length) parts.push({ literal: template.slice(last) });
  const literals = parts.flatMap((p) => ('literal' in p ? [p.literal] : []));
  for (const text of literals) {
    if (/[{}]/u.test(text)) throw new TypeError(`Unbalanced brace in the save name template ${describe(template)}`);
    const bad = REFUSED_LITERAL.exec(text);
    if (bad) {
      throw new TypeError(`The save name template ${describe(template)} contains ${JSON.stringify(bad[0])}, which file systems refuse`);
    }
  }
  if (template.startsWith('/')) throw new TypeError(`The save name template ${describe(template)} must be relative to the save directory`);
  // A segment made of template text alone is fixed: `.` or `..` there would leave (or mean) the directory itself.
  const fixed = template.split('/').filter((seg) => !seg.includes('{'));
  if (fixed.some((seg) => seg === '.' || seg === '..')) {
    throw new TypeError(`The save name template ${describe(template)} may not contain \`.\` or \`..\` segments`);
  }
  return parts;
}

/**
 * One percent-encoded URL component (a path segment, or the query) as readable text, escaped for a file name.
 * A run of `%XX` that is valid UTF-8 is decoded; one that is not stays as it was, so nothing is lost. Decoding
 * happens after the path is split, so `%2F` and `%5C` become an escaped character inside a name, never a
 * separator, and `%2E%2E` is never a `..` segment (the URL parser has already removed real dot segments).
 */
function readableComponent(raw: string): string {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let out = '';
  let last = 0;
  for (const m of raw.matchAll(/(?:%[0-9A-Fa-f]{2})+/gu)) {
    out += escapeChars(raw.slice(last, m.index));
    const run = m[0];
    const bytes = Uint8Array.from(run.slice(1).split('%'), (h) => parseInt(h, 16));
    try {
      out += escapeChars(decoder.decode(bytes));
    } catch {
      out += run.toUpperCase();
    }
    last = m.index + run.length;
  }
  return out + escapeChars(raw.slice(last));
}

/**
 * `{path}`: the URL path below the host, `/` → `index.html` and `…/` → `…/index.html`; the query kept after `@`
 * (wget's Windows-safe spelling of `?`) and before the extension, so `list?page=2` served as JSON is
 * `list@page=2.json`; an extension from the Content-Type when the last segment has none.
 */
function pathValue(url: URL, contentType: string | null | undefined): string {
  const segments = url.pathname.split('/').slice(1).map(readableComponent);
  let last = segments.pop() ?? '';
  if (last === '') last = 'index.html';
  const own = extensionOf(last);
  const stem = own ? last.slice(0, -(own.length + 1)) : last;
  const ext = own ?? extensionForType(contentType);
  const query = url.search.length > 1 ? `@${readableComponent(url.search.slice(1))}` : '';
  segments.push(`${stem}${query}${ext ? `.${ext}` : ''}`);
  // Empty segments (`//`) cannot be directory names; dropping them may make two URLs meet, which the namer handles.
  return segments.filter((s) => s !== '').join('/');
}

/** `{ext}`: from the Content-Type, else from the URL's last segment, else `bin`. */
function extValue(url: URL, contentType: string | null | undefined): string {
  const fromType = contentType ? extensionForType(contentType) : null;
  if (fromType && fromType !== 'bin') return fromType;
  const lastSegment = readableComponent(url.pathname.slice(url.pathname.lastIndexOf('/') + 1));
  return extensionOf(lastSegment) ?? 'bin';
}

/** Case- and normalisation-insensitive key, so APFS and NTFS (which fold both) never see two names as one file. */
function fold(name: string): string {
  return name.normalize('NFC').toLowerCase();
}

/** `name-N`, before the extension when there is one: `a.html` → `a-1.html`; shortened again if that made it long. */
function withSuffix(name: string, n: number, isFile: boolean): string {
  const ext = isFile ? extensionOf(name) : null;
  const stem = ext ? name.slice(0, -(ext.length + 1)) : name;
  return fitSegment(`${stem}-${n}${ext ? `.${ext}` : ''}`);
}

interface DirNode {
  kind: 'dir';
  name: string;
  children: Map<string, DirNode | FileNode>;
}
interface FileNode {
  kind: 'file';
}

/**
 * File names for one run of `--save DIR`, from a template (`--save-name`, default `{host}/{path}`).
 *
 * Placeholders: `{host}` (the hostname, `host_port` when the port is not the scheme's default), `{path}` (see
 * pathValue), `{sha256}` (hex of the body), `{index}` (input line number), `{ext}` (no dot; see extValue).
 * Every part is escaped (file-segment.ts) and shortened past 200 bytes, so a name never leaves DIR, whatever
 * the URL: `..`, `%2e%2e`, `%2f`, `%5c`, backslashes, NUL and Windows device names all end up inside a file name.
 *
 * Two different URLs whose names meet (also by case, or a file where the other needs a directory) never overwrite
 * each other: the later one gets `-1`, `-2`… before the extension. The same URL asked again keeps its name.
 * Names depend only on the order of the calls; the namer remembers every name it gave (memory grows with the run).
 */
export class SaveNamer {
  readonly template: string;
  private readonly parts: Part[];
  private readonly root: DirNode = { kind: 'dir', name: '', children: new Map() };
  private readonly given = new Map<string, string>();

  /** @throws TypeError for a template that is empty, has an unknown placeholder, or could name a path outside DIR. */
  constructor(template: string = DEFAULT_SAVE_NAME) {
    this.parts = parseTemplate(template);
    this.template = template;
  }

  /** True when the template has `{sha256}`: the caller must then hash the body before asking for a name. */
  get usesSha256(): boolean {
    return this.parts.some((p) => 'placeholder' in p && p.placeholder === 'sha256');
  }

  /** The relative path (with `/`) under DIR at which to save this body. */
  name(input: SaveNameInput): string {
    const url = typeof input.url === 'string' ? new URL(input.url) : input.url;
    const rendered = this.render(url, input);
    const key = `${url.href}\u0000${rendered.join('/')}`;
    const known = this.given.get(key);
    if (known !== undefined) return known;
    const name = this.claim(rendered);
    this.given.set(key, name);
    return name;
  }

  /**
   * Marks a name an earlier run gave (a row's `savedAs`, when resuming) as taken, so that no URL of this run is
   * given it: a resumed run never overwrites an earlier run's file with another URL's body. A path that is not a
   * safe relative path, or that clashes with a name already known, is ignored.
   */
  reserve(relPath: string): void {
    const segments = typeof relPath === 'string' ? relPath.split('/') : [];
    if (segments.length === 0 || !segments.every(isSafeSegment)) return;
    let dir = this.root;
    for (let i = 0; i < segments.length - 1; i++) {
      const name = segments[i]!;
      const existing = dir.children.get(fold(name));
      if (existing?.kind === 'file') return;
      if (existing === undefined) {
        const next: DirNode = { kind: 'dir', name, children: new Map() };
        dir.children.set(fold(name), next);
        dir = next;
      } else {
        dir = existing;
      }
    }
    const last = fold(segments.at(-1)!);
    if (!dir.children.has(last)) dir.children.set(last, { kind: 'file' });
  }

  private render(url: URL, input: SaveNameInput): string[] {
    let out = '';
    for (const part of this.parts) {
      if ('literal' in part) {
        out += part.literal;
        continue;
      }
      switch (part.placeholder) {
        case 'host':
          out += escapeChars(url.port ? `${url.hostname}_${url.port}` : url.hostname);
          break;
        case 'path':
          out += pathValue(url, input.contentType);
          break;
        case 'ext':
          out += extValue(url, input.contentType);
          break;
        case 'index':
          if (!Number.isSafeInteger(input.index)) {
            throw new TypeError(`The save name template uses {index}, so \`index\` must be an integer, got ${describe(input.index)}`);
          }
          out += String(input.index);
          break;
        case 'sha256':
          if (typeof input.sha256 !== 'string' || !/^[0-9a-f]{64}$/u.test(input.sha256)) {
            throw new TypeError(`The save name template uses {sha256}, so \`sha256\` must be 64 hex digits, got ${describe(input.sha256)}`);
          }
          out += input.sha256;
          break;
      }
    }
    const segments = out.split('/').filter((s) => s !== '').map((s) => fitSegment(finishSegment(s)));
    return segments.length > 0 ? segments : ['index.html'];
  }

  /** Walks the names given so far and takes the first free spelling of each part. */
  private claim(segments: string[]): string {
    const out: string[] = [];
    let dir = this.root;
    for (let i = 0; i < segments.length; i++) {
      const isFile = i === segments.length - 1;
      let name = segments[i]!;
      for (let n = 1; ; n++) {
        const existing = dir.children.get(fold(name));
        if (existing === undefined) break;
        // Directories are shared: the first spelling given stays, so `A/x` and `a/y` end up side by side.
        if (!isFile && existing.kind === 'dir') {
          name = existing.name;
          break;
        }
        name = withSuffix(segments[i]!, n, isFile);
      }
      if (isFile) {
        dir.children.set(fold(name), { kind: 'file' });
      } else {
        let next = dir.children.get(fold(name));
        if (next === undefined) {
          next = { kind: 'dir', name, children: new Map() };
          dir.children.set(fold(name), next);
        }
        dir = next as DirNode;
      }
      out.push(name);
    }
    return out.join('/');
  }
}
