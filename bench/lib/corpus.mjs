// The benchmark corpus: deterministic pages generated from their index, so the server child and every checker
// compute the same bytes and the same expected answers without sharing files.

// mulberry32, the seeded PRNG the tests use too: the same seed gives the same pages on every machine.
import { rng } from '../../test/fixtures/rng.mjs';

export { rng };

const WORDS = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua'.split(' ');
const words = (r, n) => Array.from({ length: n }, () => WORDS[Math.floor(r() * WORDS.length)]).join(' ');

/** W1/W2: a ~2 KB page. */
export function smallPage(i) {
  const r = rng(i + 1);
  const title = `Small page ${i} ${words(r, 3)}`;
  const paras = Array.from({ length: 12 }, () => `<p>${words(r, 20)}</p>`).join('\n');
  return { title, links: 0, html: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>\n${paras}\n</body></html>` };
}

/**
 * W3: a ~150 KB realistic page: head with meta/script/style, nav, tables, lists and a few hundred links. Every
 * href is unique, absolute and fragment-free, so a de-duplicating extractor and a regex count the same links.
 */
export function bigPage(i) {
  const r = rng(1_000_000 + i);
  const title = `Big page ${i}: ${words(r, 5)}`;
  const nLinks = 250 + Math.floor(r() * 150);
  const links = Array.from({ length: nLinks }, (_, k) => `https://site${k % 17}.example/p/${i}/${k}?q=${Math.floor(r() * 1e6)}`);
  const head = `<head><meta charset="utf-8"><meta name="description" content="${words(r, 25)}"><meta name="viewport" content="width=device-width">` +
    `<title>${title}</title><style>${'.c{color:#333;margin:0 auto;padding:4px}\n'.repeat(80)}</style>` +
    `<script>${'window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}\n'.repeat(60)}</script></head>`;
  let li = 0;
  const take = (n) => links.slice(li, (li += n));
  const nav = `<nav><ul>${take(40).map((h, k) => `<li class="nav-item"><a href="${h}">Section ${k}</a></li>`).join('')}</ul></nav>`;
  const rows = Array.from({ length: 120 }, (_, k) => `<tr><td>${k}</td><td>${words(r, 6)}</td><td>${(r() * 1000).toFixed(2)}</td><td><span class="tag">${words(r, 2)}</span></td></tr>`).join('\n');
  const table = `<table class="data"><thead><tr><th>#</th><th>Name</th><th>Value</th><th>Tag</th></tr></thead><tbody>${rows}</tbody></table>`;
  const articles = [];
  while (li < links.length) {
    const chunk = take(20);
    articles.push(`<article><h2>${words(r, 4)}</h2><p>${words(r, 120)}</p><ul>${chunk.map((h) => `<li><a href="${h}" class="x">${words(r, 3)}</a> ${words(r, 8)}</li>`).join('')}</ul></article>`);
  }
  let body = `<body><header>${nav}</header><main>${table}${articles.join('\n')}</main>`;
  // Pad with plain text to about 150 KB.
  const pad = [];
  let size = head.length + body.length;
  while (size < 150_000) {
    const p = `<p class="filler">${words(r, 60)}</p>\n`;
    pad.push(p);
    size += p.length;
  }
  body += `<footer>${pad.join('')}</footer></body>`;
  return { title, links: links.length, html: `<!doctype html><html lang="en">${head}${body}</html>` };
}

/** W5: the body every ~1 MB page shares (rendered once): ~12,000 unique absolute links in list items. */
let hugeBody = null;
export const HUGE_LINKS = 12_000;
function hugeBodyHtml() {
  if (hugeBody === null) {
    const r = rng(7);
    const items = Array.from({ length: HUGE_LINKS }, (_, k) => `<li><a href="https://site${k % 23}.example/h/${k}?q=${Math.floor(r() * 1e6)}">${words(r, 3)}</a> ${words(r, 1)}</li>`);
    hugeBody = `<body><main><ul>${items.join('\n')}</ul></main></body>`;
  }
  return hugeBody;
}

/**
 * W5: a ~1 MB link-heavy page (about 12,000 links), the shape that made fetched bodies pile up in front of a slow
 * parser. Only the title differs between pages, so the server renders them on request instead of holding
 * 1,500 MB of pages.
 */
export function hugePage(i) {
  const [head, tail] = hugePageParts(i);
  return { title: `Huge page ${i}`, links: HUGE_LINKS, html: head + tail };
}

/** The two halves of hugePage(i).html: its own head, and the tail every huge page shares (so a server can keep one copy). */
export function hugePageParts(i) {
  return [`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Huge page ${i}</title></head>`, `${hugeBodyHtml()}</html>`];
}

export function page(kind, i) {
  if (kind === 'huge') return hugePage(i);
  return kind === 'big' ? bigPage(i) : smallPage(i);
}
