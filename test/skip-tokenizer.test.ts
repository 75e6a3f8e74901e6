// SkipTokenizer replaces one method of htmlparser2's tokenizer (fastForwardTo: a charCodeAt loop) with indexOf.
// The replacement must give exactly the stock tokenizer's events, at the same offsets, however the input is cut
// into pieces; and it must actually be the code that runs (an htmlparser2 upgrade that renamed the method would
// otherwise leave the override dead, and the scan silently slower). A seeded fuzz of tag soup built from what makes
// the tokenizer skip: text, quoted attribute values, script/style/title/textarea bodies, end tags, comments,
// CDATA, processing instructions, and the same constructs cut off at the end of the input.
import { describe, expect, it, vi } from 'vitest';
import { Tokenizer } from 'htmlparser2';
import { SkipTokenizer, probe, skipsWithIndexOf, tokenEvents as tokenize } from '../src/parse/skip-tokenizer.js';
import { scanPage } from '../src/parse/stream.js';
import { parsePage } from '../src/parse/document.js';
import { normalizeExtract } from '../src/parse/spec.js';
import { rng } from './fixtures/rng.mjs';

const FRAGMENTS = [
  'plain text ', 'a < b ', '&amp; &lt;', 'é ü 😀 ', '\n\t', '<', '>', '"', "'", '</', '</ p>', '<p>', '</p>', '<br/>',
  '<a href="/x?a=1&amp;b=2">', '<a href=\'/y\'>', '<a href=/z title="t>t">', '<img alt="say \'hi\'" src=x>', '</a>',
  '<script>if (a < b && c > "</p>") x();</script>', '<script>unterminated <', '</script>', '<style>p > a { color: red }</style>',
  '<title>T &amp; <b>x</b></title>', '<title>', '</title>', '<textarea>a <b> c</textarea>', '<!-- a -- > b -->', '<!---->',
  '<!-- unterminated', '<![CDATA[ x ]] ]]>', '<![CDATA[', '<?php echo 1 ?>', '<!doctype html>', '<!DOCTYPE', '<svg><title>s</title></svg>',
  '<div class="c" data-x=\'1\' hidden>', '</div x="y">', '<x-y z=">">', '=', '"unclosed', '<a b="c', '\u0000',
];

function soup(random: () => number): string {
  let out = '';
  const n = 1 + Math.floor(random() * 40);
  for (let i = 0; i < n; i++) out += FRAGMENTS[Math.floor(random() * FRAGMENTS.length)];
  return out;
}

/** The input cut at random places (pieces of 1 to ~40 characters, or whole). */
function cut(input: string, random: () => number): string[] {
  if (random() < 0.2) return [input];
  const pieces: string[] = [];
  for (let at = 0; at < input.length; ) {
    const size = 1 + Math.floor(random() * (random() < 0.5 ? 4 : 40));
    pieces.push(input.slice(at, at + size));
    at += size;
  }
  return pieces;
}

describe('SkipTokenizer', () => {
  it('replaces htmlparser2 fastForwardTo, and both the scan and the DOM parse run it', () => {
    expect(skipsWithIndexOf).toBe(true);
    const proto = SkipTokenizer.prototype as unknown as Record<string, unknown>;
    expect(proto['fastForwardTo']).not.toBe((Tokenizer.prototype as unknown as Record<string, unknown>)['fastForwardTo']);
    const spy = vi.spyOn(proto as { fastForwardTo: (c: number) => boolean }, 'fastForwardTo');
    try {
      const raw = scanPage('<html><head><title>t</title></head><body><p>some text</p><a href="/a">a</a></body></html>', normalizeExtract({ title: true, links: true }));
      expect(raw.title).toBe('t');
      expect(raw.hrefs).toEqual(['/a']);
      expect(spy).toHaveBeenCalled();
      // The whole DOM's parse (user selectors) skips through script bodies and end tags with it too.
      spy.mockClear();
      const doc = parsePage('<html><head><script>if (a < b) go();</script></head><body><p>x</p></body></html>');
      expect(doc.children.length).toBeGreaterThan(0);
      expect(spy).toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it('keeps the skip only if a probe at load tells it from a wrong one: a skip one character too far, or one that reads fields the tokenizer no longer has', () => {
    expect(probe(SkipTokenizer)).toBe(probe(Tokenizer));
    interface State { buffer: string; index: number; offset: number }
    class TooFar extends Tokenizer {}
    Object.defineProperty(TooFar.prototype, 'fastForwardTo', {
      value(this: State, c: number): boolean {
        const at = this.buffer.indexOf(String.fromCharCode(c), this.index + 2 - this.offset);
        if (at === -1) return ((this.index = this.buffer.length + this.offset - 1), false);
        return ((this.index = at + this.offset), true);
      },
    });
    expect(probe(TooFar)).not.toBe(probe(Tokenizer));
    class Renamed extends Tokenizer {}
    Object.defineProperty(Renamed.prototype, 'fastForwardTo', {
      value(this: { text: string }, c: number): boolean {
        return this.text.indexOf(String.fromCharCode(c)) !== -1;
      },
    });
    expect(() => probe(Renamed)).toThrow(TypeError);
  });

  for (const seed of [9309, 20261207, 42]) {
    it(`gives the stock tokenizer's events on 600 pieces of tag soup (seed ${seed})`, () => {
      const random = rng(seed);
      for (let i = 0; i < 600; i++) {
        const input = soup(random);
        const pieces = cut(input, random);
        const options = { decodeEntities: random() < 0.7 ? false : true, xmlMode: random() < 0.1 };
        const want = tokenize(Tokenizer, pieces, options);
        const got = tokenize(SkipTokenizer, pieces, options);
        if (JSON.stringify(got) !== JSON.stringify(want)) {
          expect({ input, pieces, options, events: got }).toEqual({ input, pieces, options, events: want });
        }
      }
    });
  }

  it('skips across a long page in pieces as the stock tokenizer does', () => {
    const random = rng(150);
    const page = Array.from({ length: 2_000 }, () => soup(random)).join('\n');
    const pieces = cut(page, rng(151)).reduce<string[]>((acc, piece, i) => (i % 500 === 0 ? acc.push(piece) : (acc[acc.length - 1] += piece), acc), []);
    expect(pieces.length).toBeGreaterThan(1);
    const options = { decodeEntities: false, xmlMode: false };
    expect(tokenize(SkipTokenizer, pieces, options)).toEqual(tokenize(Tokenizer, pieces, options));
  });
});
