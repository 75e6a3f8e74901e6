import { describe, expect, it } from 'vitest';
import { DEFAULT_SAVE_NAME, SaveNamer } from '../src/keep/save-name.js';
import { MAX_SEGMENT_BYTES, escapeSegment, fitSegment, isDeviceName, isSafeSegment } from '../src/keep/file-segment.js';
import { extensionForType, extensionOf } from '../src/keep/extensions.js';

const SHA = 'ab'.repeat(32);

function nameOf(url: string, contentType: string | null = null, template?: string): string {
  return new SaveNamer(template).name({ url, contentType, index: 7, sha256: SHA });
}

describe('save names from the default template {host}/{path}', () => {
  const table: [string, string | null, string][] = [
    ['http://example.com/', 'text/html', 'example.com/index.html'],
    ['http://example.com', null, 'example.com/index.html'],
    ['http://example.com/docs/', 'text/html', 'example.com/docs/index.html'],
    ['http://example.com/a/b.png', 'image/png', 'example.com/a/b.png'],
    ['http://Example.COM:8080/x.txt', 'text/plain', 'example.com_8080/x.txt'],
    ['https://example.com:443/x.txt', null, 'example.com/x.txt'],
    ['http://example.com:80/x.txt', null, 'example.com/x.txt'],
    ['http://example.com/report', 'application/pdf', 'example.com/report.pdf'],
    ['http://example.com/report', null, 'example.com/report'],
    ['http://example.com/report', 'application/x-unheard-of', 'example.com/report'],
    ['http://example.com/api/items?page=2', 'application/json; charset=utf-8', 'example.com/api/items@page=2.json'],
    ['http://example.com/api/v1.2', 'application/vnd.api+json', 'example.com/api/v1.2.json'],
    ['http://example.com/page.php?id=3', 'text/html', 'example.com/page@id=3.php'],
    ['http://example.com/?q=cats', 'text/html', 'example.com/index@q=cats.html'],
    ['http://example.com/x#frag', null, 'example.com/x'],
    ['http://example.com/caf%C3%A9', null, 'example.com/café'],
    ['http://example.com/caf%c3%a9.txt', null, 'example.com/café.txt'],
    ['http://example.com/%FF%FE.bin', null, 'example.com/%FF%FE.bin'],
    ['http://example.com/100%25', null, 'example.com/100%25'],
    ['http://example.com/a%20b', null, 'example.com/a b'],
    ['http://example.com/a:b*c', null, 'example.com/a%3Ab%2Ac'],
    ['http://example.com/dir//file', null, 'example.com/dir/file'],
    ['http://[::1]:8080/x', null, '[%3A%3A1]_8080/x'],
    ['http://xn--bcher-kva.example/x', null, 'xn--bcher-kva.example/x'],
  ];
  it.each(table)('%s (%s) → %s', (url, type, expected) => {
    expect(nameOf(url, type)).toBe(expected);
  });

  it('is the default', () => {
    expect(DEFAULT_SAVE_NAME).toBe('{host}/{path}');
    expect(new SaveNamer().template).toBe('{host}/{path}');
  });
});

describe('other placeholders', () => {
  it('{sha256}.{ext}: the ext comes from the type, else the URL, else bin', () => {
    expect(nameOf('http://h/x', 'application/json', '{sha256}.{ext}')).toBe(`${SHA}.json`);
    expect(nameOf('http://h/x.tar.gz', 'application/octet-stream', '{sha256}.{ext}')).toBe(`${SHA}.gz`);
    expect(nameOf('http://h/x.csv', null, '{sha256}.{ext}')).toBe(`${SHA}.csv`);
    expect(nameOf('http://h/x', null, '{sha256}.{ext}')).toBe(`${SHA}.bin`);
  });

  it('{index} and {host} in one part', () => {
    expect(nameOf('http://h.example:81/a/b', null, 'out/{index}-{host}.{ext}')).toBe('out/7-h.example_81.bin');
  });

  it('{path} below template text', () => {
    expect(nameOf('http://h/a/b.html', null, 'pages/{host}/{path}')).toBe('pages/h/a/b.html');
  });

  it('asks for {sha256} and {index} only when the template uses them', () => {
    expect(new SaveNamer().usesSha256).toBe(false);
    expect(new SaveNamer('{sha256}').usesSha256).toBe(true);
    expect(new SaveNamer().name({ url: 'http://h/x' })).toBe('h/x');
    expect(() => new SaveNamer('{sha256}').name({ url: 'http://h/x' })).toThrow(/`sha256` must be 64 hex digits, got `undefined` \(undefined\)/);
    expect(() => new SaveNamer('{index}').name({ url: 'http://h/x', index: 1.5 })).toThrow(/`index` must be an integer, got `1.5` \(number\)/);
  });

  it('takes a URL object as well as a string', () => {
    expect(new SaveNamer().name({ url: new URL('http://h/a/') })).toBe('h/a/index.html');
  });
});

describe('template validation', () => {
  it.each([
    ['{host}/{name}', /Unknown placeholder `\{name\}` in the save name template `\{host\}\/\{name\}` \(string\); expected \{host\}, \{path\}, \{sha256\}, \{index\}, \{ext\}/],
    ['{}', /Unknown placeholder `\{\}`/],
    ['{host/{path}', /Unbalanced brace/],
    ['{host}}', /Unbalanced brace/],
    ['', /non-empty string, got `` \(string\)/],
    ['/srv/{path}', /must be relative/],
    ['../{path}', /may not contain `\.` or `\.\.` segments/],
    ['a/./{path}', /may not contain/],
    ['a\\{path}', /contains "\\\\", which file systems refuse/],
    ['C:/{path}', /contains ":"/],
    ['a\u0000{path}', /contains "\\u0000"/],
  ])('%j is refused', (template, message) => {
    expect(() => new SaveNamer(template)).toThrow(TypeError);
    expect(() => new SaveNamer(template)).toThrow(message);
  });

  it('echoes a value of the wrong type with its type', () => {
    expect(() => new SaveNamer(5 as unknown as string)).toThrow('got `5` (number)');
  });

  it('allows dots that are part of a name', () => {
    expect(nameOf('http://h/x', null, '..{index}/{path}')).toBe('..7/x');
  });
});

describe('escaping: nothing a URL says can leave the directory', () => {
  const table: [string, string][] = [
    ['http://h/../../etc/passwd', 'h/etc/passwd'],
    ['http://h/%2e%2e/%2E%2E/etc/passwd', 'h/etc/passwd'],
    ['http://h/a/..%2f..%2fetc%2fpasswd', 'h/a/..%2F..%2Fetc%2Fpasswd'],
    ['http://h/%2f..%2f..%2fx', 'h/%2F..%2F..%2Fx'],
    ['http://h/..%5c..%5cx', 'h/..%5C..%5Cx'],
    ['http://h/a\\..\\..\\x', 'h/x'],
    ['http://h//etc/passwd', 'h/etc/passwd'],
    ['http://h/a%00b', 'h/a%00b'],
    ['http://h/a%0d%0ab', 'h/a%0D%0Ab'],
    ['http://h/x?a=../../b', 'h/x@a=..%2F..%2Fb'],
    ['http://h/x?a=%2f%5c', 'h/x@a=%2F%5C'],
    ['http://h/CON', 'h/%43ON'],
    ['http://h/nul.txt', 'h/%6Eul.txt'],
    ['http://h/Com1.tar.gz', 'h/%43om1.tar.gz'],
    ['http://h/lpt9/x', 'h/%6Cpt9/x'],
    ['http://h/aux%20.txt', 'h/%61ux .txt'],
    ['http://h/conin$', 'h/%63onin$'],
    ['http://h/console', 'h/console'],
    ['http://h/trailing.', 'h/trailing%2E'],
    ['http://h/dots...', 'h/dots%2E%2E%2E'],
    ['http://h/space%20', 'h/space%20'],
    ['http://h/.volley-tmp-abc', 'h/%2Evolley-tmp-abc'],
    ['http://h/.htaccess', 'h/.htaccess'],
    ['http://con/x', '%63on/x'],
    ['http://nul.example/x', '%6Eul.example/x'],
  ];
  it.each(table)('%s → %s', (url, expected) => {
    const name = nameOf(url);
    expect(name).toBe(expected);
    expect(name.split('/').every(isSafeSegment)).toBe(true);
  });

  it('percent-decoding after the split: %2e%2e in one segment with other text is a name, not a step up', () => {
    expect(nameOf('http://h/a/%2e%2e%2fb')).toBe('h/a/..%2Fb');
  });
});

describe('long name parts', () => {
  it('shortens a part past 200 bytes with a hash suffix and keeps its extension', () => {
    const name = nameOf(`http://h/${'a'.repeat(300)}.html`);
    const last = name.split('/').at(-1)!;
    expect(Buffer.byteLength(last)).toBeLessThanOrEqual(MAX_SEGMENT_BYTES);
    expect(last).toMatch(/^a+~[0-9a-f]{16}\.html$/);
  });

  it('keeps two long names that share their start apart', () => {
    const namer = new SaveNamer();
    const a = namer.name({ url: `http://h/${'x'.repeat(250)}1` });
    const b = namer.name({ url: `http://h/${'x'.repeat(250)}2` });
    expect(a).not.toBe(b);
    expect(a.replace(/~.*/, '')).toBe(b.replace(/~.*/, ''));
  });

  it('never cuts a character in two', () => {
    const last = fitSegment('é'.repeat(150));
    expect(Buffer.byteLength(last)).toBeLessThanOrEqual(MAX_SEGMENT_BYTES);
    expect(Buffer.from(last, 'utf8').toString('utf8')).toBe(last);
    expect(last).not.toContain('\ufffd');
  });

  it('shortens a long query and long directory parts too', () => {
    const name = nameOf(`http://h/${'d'.repeat(260)}/f?${'q'.repeat(500)}`, 'application/json');
    for (const part of name.split('/')) expect(Buffer.byteLength(part)).toBeLessThanOrEqual(MAX_SEGMENT_BYTES);
    expect(name).toMatch(/\.json$/);
  });

  it('leaves a part of exactly 200 bytes alone', () => {
    expect(fitSegment('z'.repeat(200))).toBe('z'.repeat(200));
  });
});

describe('collisions within a run', () => {
  it('gives the second URL that maps to a taken name -1, the third -2, before the extension', () => {
    const namer = new SaveNamer();
    expect(namer.name({ url: 'http://h/a?x=1', contentType: 'text/html' })).toBe('h/a@x=1.html');
    expect(namer.name({ url: 'http://h/a@x=1', contentType: 'text/html' })).toBe('h/a@x=1-1.html');
    expect(namer.name({ url: 'http://h/a%40x=1', contentType: 'text/html' })).toBe('h/a@x=1-2.html');
  });

  it('keeps the name of a URL asked again', () => {
    const namer = new SaveNamer();
    const first = namer.name({ url: 'http://h/dup', contentType: 'text/html' });
    namer.name({ url: 'http://h/dup.html' });
    expect(namer.name({ url: 'http://h/dup', contentType: 'text/html' })).toBe(first);
    expect(namer.name({ url: 'http://h/dup.html' })).toBe('h/dup-1.html');
  });

  it('treats names that differ only by case or Unicode normalisation as one (APFS, NTFS)', () => {
    const namer = new SaveNamer();
    expect(namer.name({ url: 'http://h/Readme' })).toBe('h/Readme');
    expect(namer.name({ url: 'http://h/README' })).toBe('h/README-1');
    expect(namer.name({ url: 'http://h/caf%C3%A9' })).toBe('h/café');
    expect(namer.name({ url: 'http://h/cafe%CC%81' })).toBe('h/cafe\u0301-1');
  });

  it('shares directories, using the first spelling', () => {
    const namer = new SaveNamer();
    expect(namer.name({ url: 'http://h/Dir/x' })).toBe('h/Dir/x');
    expect(namer.name({ url: 'http://h/dir/y' })).toBe('h/Dir/y');
    expect(namer.name({ url: 'http://h/dir/x' })).toBe('h/Dir/x-1');
  });

  it('never puts a file where a directory is, or a directory where a file is', () => {
    const namer = new SaveNamer();
    expect(namer.name({ url: 'http://h/a' })).toBe('h/a');
    expect(namer.name({ url: 'http://h/a/b' })).toBe('h/a-1/b');
    expect(namer.name({ url: 'http://h/a/c' })).toBe('h/a-1/c');
    expect(namer.name({ url: 'http://h/x/y' })).toBe('h/x/y');
    expect(namer.name({ url: 'http://h/x' })).toBe('h/x-1');
  });

  it('is deterministic: the same calls give the same names', () => {
    const urls = ['http://h/a', 'http://h/A', 'http://h/a/b', 'http://h/a?x', 'http://h/a@x', 'http://h/', 'http://h/index.html'];
    const run = (): string[] => {
      const namer = new SaveNamer();
      return urls.map((url) => namer.name({ url, contentType: 'text/html' }));
    };
    const names = run();
    expect(run()).toEqual(names);
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(urls.length);
  });

  it('resolves a constant template by suffixes', () => {
    const namer = new SaveNamer('page.html');
    expect(['http://h/1', 'http://h/2', 'http://h/3'].map((url) => namer.name({ url }))).toEqual(['page.html', 'page-1.html', 'page-2.html']);
  });
});

describe('name parts', () => {
  it('knows the Windows device names, with extensions and trailing spaces', () => {
    for (const n of ['CON', 'con', 'PRN.txt', 'aux.tar.gz', 'NUL', 'com1', 'COM9.log', 'lpt¹', 'conout$', 'nul .txt']) expect(isDeviceName(n)).toBe(true);
    for (const n of ['console', 'com10', 'nully', 'x.con', 'lpt']) expect(isDeviceName(n)).toBe(false);
  });

  it('escapes % itself, so an escaped name never reads as another', () => {
    expect(escapeSegment('a%2Fb')).toBe('a%252Fb');
    expect(escapeSegment('a/b')).toBe('a%2Fb');
  });

  it('refuses unsafe parts in the writer check', () => {
    for (const s of ['', '.', '..', 'a/b', 'a\\b', 'a\u0000', 'a:', 'x.', 'x ', 'NUL', '.volley-tmp-1', 'x'.repeat(256)]) {
      expect(isSafeSegment(s)).toBe(false);
    }
  });

  it('maps types to extensions and reads extensions', () => {
    expect(extensionForType('text/html; charset=utf-8')).toBe('html');
    expect(extensionForType('IMAGE/JPEG')).toBe('jpg');
    expect(extensionForType('application/problem+json')).toBe('json');
    expect(extensionForType('application/foo+xml')).toBe('xml');
    expect(extensionForType('nonsense')).toBeNull();
    expect(extensionForType(null)).toBeNull();
    expect(extensionOf('a.tar.gz')).toBe('gz');
    expect(extensionOf('v1.2')).toBeNull();
    expect(extensionOf('.htaccess')).toBeNull();
    expect(extensionOf('x.7z')).toBe('7z');
  });
});
