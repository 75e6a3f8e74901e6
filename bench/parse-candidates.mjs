#!/usr/bin/env node
// Measures HTML-parsing options for volley's parse stage, and what the piscina pool costs and buys.
//
//   cd /work/main && npx tsc -p tsconfig.build.json && node bench/parse-candidates.mjs [--quick] [--only=1,2,p,3,4]
//
// Pages are synthetic and deterministic (seeded PRNG per page index, so --quick's pages are a prefix of the
// full run's). Every figure is the median of 3 timed runs, after a warm-up. Single-threaded candidates run each
// timed run in a fresh child process (this same file with --child=...), so one candidate's GC history does not
// leak into the next's. Progress goes to stderr, the
// markdown table to stdout. Nothing is written to the repository: the piscina probe worker lives in os.tmpdir().
//
// Candidates, each doing the work of volley's extract() with { title: true, description: false, links: true }:
// first <base href> as document base, first <title> text (whitespace collapsed), every a[href]/area[href]
// resolved with new URL, http(s) only, fragment dropped, de-duplicated in document order.
//   A  cheerio.load(html)                                   parse5 tree builder (cheerio's default)
//   B  cheerio.load(html, { xml: { xmlMode: false, ... } }) htmlparser2 through cheerio's own loader
//   C  extract() from dist/parse/extract.js                  htmlparser2 parse events, no DOM (volley, no -s)
//   C2 extractFromDom() from dist/parse/extract-dom.js          cheerio/slim over htmlparser2.parseDocument (volley with -s)
//      (A and B run extract()'s own steps over their CheerioAPI, so A/B/C2 differ only in how the DOM is built)
//   Cw decodeHtml() + extract() from the page's bytes            decoding included: the page as one string
//   Cb extractBody() from the page's bytes                       decoding included: 32 KiB pieces (the threads' path)
//   D  htmlparser2.parseDocument + css-select selectAll/selectOne + domutils textContent, no cheerio
//   E  htmlparser2 Parser callbacks, no DOM at all

import { rng } from './lib/corpus.mjs';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as cheerio from 'cheerio';
import { Parser, parseDocument } from 'htmlparser2';
import { selectAll, selectOne } from 'css-select';
import { select as cheerioSelect } from 'cheerio-select';
import { textContent } from 'domutils';
import { Piscina } from 'piscina';

const QUICK = process.argv.includes('--quick');
/** `--only=1,2,p,3,4` runs some sections: 1-2 single-threaded candidates, p piscina costs, 3-4 ParsePool vs inline. */
const ONLY = new Set((process.argv.find((x) => x.startsWith('--only='))?.slice('--only='.length) ?? '1,2,p,3,4').split(','));
const RUNS = 3;
const N_BIG = QUICK ? 200 : 2_000;
const N_SMALL = QUICK ? 2_000 : 20_000;
const N_EMPTY = QUICK ? 2_000 : 20_000;
const N_EMPTY_SEQ = QUICK ? 1_000 : 5_000;
const N_TRANSPORT = QUICK ? 200 : 2_000;
const THREADS = 2;
const CONTENT_TYPE = 'text/html; charset=utf-8';
const SPEC_INPUT = { title: true, description: false, links: true };

// The product is imported from a private snapshot of dist/ (with a node_modules symlink beside it, so its bare
// imports resolve): other work may rebuild dist/ while this runs, and a pool whose main-thread half and worker
// half come from different builds answers nonsense. Children get the parent's snapshot.
const childArg = process.argv.find((a) => a.startsWith('--child='));
const childJob = childArg === undefined ? null : JSON.parse(childArg.slice('--child='.length));
const repo = fileURLToPath(new URL('..', import.meta.url));
let snapshotDir = childJob?.snapshotDir;
if (snapshotDir === undefined) {
  if (!existsSync(path.join(repo, 'dist/parse/extract.js'))) {
    console.error('dist/parse/extract.js is missing; run `npx tsc -p tsconfig.build.json` first.');
    process.exit(1);
  }
  snapshotDir = mkdtempSync(path.join(os.tmpdir(), 'volley-parse-bench-dist-'));
  cpSync(path.join(repo, 'dist'), path.join(snapshotDir, 'dist'), { recursive: true });
  symlinkSync(path.join(repo, 'node_modules'), path.join(snapshotDir, 'node_modules'), 'dir');
  process.on('exit', () => rmSync(snapshotDir, { recursive: true, force: true }));
}
const dist = pathToFileURL(path.join(snapshotDir, 'dist/parse/'));
const { extract, extractBody } = await import(new URL('extract.js', dist).href);
const { extractFromDom } = await import(new URL('extract-dom.js', dist).href);
// The built-in fields' clean-up, volley's own (src/parse/fields.ts), so every candidate cleans up alike.
const { collapse, documentBase, resolveHttp } = await import(new URL('fields.js', dist).href);
const { normalizeExtract } = await import(new URL('spec.js', dist).href);
const { ParsePool } = await import(new URL('pool.js', dist).href);
const { decodeHtml } = await import(new URL('decode.js', dist).href);
const SPEC = normalizeExtract(SPEC_INPUT);

// A collectable heap between timed runs, so one candidate's garbage is not billed to the next.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

const log = (msg) => process.stderr.write(`[parse-candidates] ${msg}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// ---------------------------------------------------------------------------------------------------------
// Deterministic synthetic pages
// ---------------------------------------------------------------------------------------------------------

// The corpus generator's PRNG, so both benchmarks mean the same thing by "deterministic".
const mulberry32 = rng;
const seedFor = (kind, i) => (Math.imul(i + 1, 2654435761) ^ (kind === 'big' ? 0x5eed1234 : 0x0badf00d)) >>> 0;

const WORDS = (
  'the of and to in is for on that with as by at from this be are was it an or not have which has their more new ' +
  'data city report market policy season team energy water health school system network service research project ' +
  'council budget release version update feature support security privacy account order price review guide ' +
  'history science climate travel food music film book game player coach election vote court law bank rate ' +
  'growth company product customer design engine browser server cloud storage memory thread worker queue batch ' +
  'parse render stream buffer signal timeout request response header cookie session token cache proxy route ' +
  'mountain river forest ocean island bridge tower museum garden library station airport harbour village ' +
  'winter summer autumn spring morning evening weekly monthly annual global local national regional public ' +
  'quickly slowly carefully openly recently finally nearly clearly simply largely fairly widely directly'
).split(' ');
const ACCENTED = ['café', 'naïve', 'résumé', 'Zürich', 'São Paulo', 'Kraków', 'Malmö', 'façade'];
const HOSTS = [
  'https://www.example.com', 'https://news.example.org', 'https://docs.example.net', 'http://archive.example.edu',
  'https://shop.example.co.uk', 'https://cdn.example-static.com', 'https://blog.example.io', 'https://api.example.dev',
];
const SECTIONS = ['news', 'world', 'tech', 'science', 'sport', 'culture', 'opinion', 'business', 'travel', 'docs'];
const TAGS = ['strong', 'em', 'code', 'span', 'b', 'i'];

const pick = (r, xs) => xs[Math.floor(r() * xs.length)];
const int = (r, lo, hi) => lo + Math.floor(r() * (hi - lo + 1));
const words = (r, n) => Array.from({ length: n }, () => pick(r, WORDS)).join(' ');
const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
const slug = (r, n) => Array.from({ length: n }, () => pick(r, WORDS)).join('-');

/** Prose with inline markup, entities and a little non-ASCII, as article text is. */
function prose(r, nWords) {
  const out = [];
  for (let k = 0; k < nWords; k++) {
    const x = r();
    if (x < 0.04) {
      const tag = pick(r, TAGS);
      out.push(`<${tag}>${words(r, int(r, 1, 3))}</${tag}>`);
    }
    else if (x < 0.05) out.push(pick(r, ['&amp;', '&nbsp;', '&mdash;', '&ldquo;quoted&rdquo;', '&#8217;s', '&lt;tag&gt;']));
    else if (x < 0.06) out.push(pick(r, ACCENTED));
    else if (x < 0.07) out.push('—');
    else out.push(pick(r, WORDS));
    if (r() < 0.06) out[out.length - 1] += pick(r, [',', '.', ';', ':']);
  }
  return cap(out.join(' ')) + '.';
}

/** `count` unique absolute URLs (unique after fragment removal), as they appear in href attributes. */
function uniqueLinks(r, count, pageIndex) {
  const links = [];
  for (let k = 0; k < count; k++) {
    let url = `${pick(r, HOSTS)}/${pick(r, SECTIONS)}/${int(r, 2015, 2025)}/${slug(r, int(r, 2, 5))}-${pageIndex}-${k}`;
    if (r() < 0.3) url += `?id=${int(r, 1, 99999)}&amp;ref=${pick(r, WORDS)}`;
    if (r() < 0.1) url += `#${pick(r, WORDS)}-${k}`;
    links.push(url);
  }
  return links;
}

function css(r, rules) {
  const out = [];
  for (let k = 0; k < rules; k++) {
    out.push(
      `.${slug(r, 2)} > .${pick(r, WORDS)}:hover, #${pick(r, WORDS)}-${k} a[href^="http"] { margin: ${int(r, 0, 24)}px ${int(r, 0, 24)}px; ` +
        `color: #${int(r, 0, 0xffffff).toString(16).padStart(6, '0')}; font: ${int(r, 11, 24)}px/1.${int(r, 2, 8)} system-ui, sans-serif; }`,
    );
  }
  return out.join('\n');
}

function js(r, functions) {
  const out = ['(function(){"use strict";var w=window,d=document;'];
  for (let k = 0; k < functions; k++) {
    const f = `${pick(r, WORDS)}_${k}`;
    out.push(
      `function ${f}(a,b){var s="";for(var i=0;i<a.length&&i<b;i++){if(a[i]<b&&a[i]>0){s+="<li class=\\"${pick(r, WORDS)}\\">"+a[i]+"<\\/li>";}}` +
        `return s.length>${int(r, 10, 999)}?s:"<div>"+s+"<\\/div>";}`,
      `w.__${f}=${f};d.addEventListener("DOMContentLoaded",function(){${f}([${int(r, 1, 9)},${int(r, 1, 9)},${int(r, 1, 9)}],${int(r, 2, 9)});});`,
    );
  }
  out.push('})();');
  return out.join('\n');
}

const a = (href, text) => `<a href="${href}" class="lnk">${text}</a>`;

/** A ~150 KB page: head with meta/style/scripts, nav, article with tables and lists, aside, footer; 300 unique links. */
function bigPage(i) {
  const r = mulberry32(seedFor('big', i));
  const url = `https://www.example.com/articles/${i}/${slug(r, 3)}`;
  const target = 150_000 + int(r, -5_000, 5_000);
  const L = uniqueLinks(r, 300, i);
  let li = 0;
  const next = () => L[li++];
  const title = `${cap(words(r, 6))} &amp; ${words(r, 3)} | Example News`;

  const head = [
    '<!DOCTYPE html>',
    `<html lang="en" class="no-js"><head>`,
    '<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${title}</title>`,
    `<meta name="description" content="${words(r, 25)}">`,
    ...['og:title', 'og:description', 'og:type', 'og:image', 'twitter:card', 'twitter:site', 'article:section', 'article:published_time'].map(
      (p) => `<meta property="${p}" content="${words(r, 5)}">`,
    ),
    `<link rel="canonical" href="${url}">`,
    `<link rel="stylesheet" href="https://cdn.example-static.com/css/main.${i}.css">`,
    `<link rel="preload" as="font" href="https://cdn.example-static.com/fonts/inter.woff2" crossorigin>`,
    `<link rel="icon" href="https://www.example.com/favicon.ico">`,
    `<style>\n${css(r, 60)}\n</style>`,
    `<script>\n${js(r, 40)}\n</script>`,
    `<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle","headline":"${words(r, 8)}","author":{"@type":"Person","name":"${cap(words(r, 2))}"}}</script>`,
    `<script async src="https://cdn.example-static.com/js/app.${i}.js"></script>`,
    '</head>',
  ];

  const navLinks = [];
  const nav = ['<body class="article-page"><header class="site-header"><a class="logo" href="/"><img src="/logo.svg" alt="Example"></a>', '<nav aria-label="Main"><ul class="menu">'];
  for (let k = 0; k < 30; k++) {
    const href = next();
    navLinks.push(href);
    nav.push(`<li class="menu-item">${a(href, cap(words(r, 2)))}</li>`);
  }
  nav.push('</ul></nav></header>');

  // The article's blocks: shuffled so links, tables and lists are spread through it.
  const blocks = [];
  for (let k = 0; k < 30; k++) {
    blocks.push(`<p>${prose(r, int(r, 20, 40))} ${a(next(), words(r, 3))} ${prose(r, int(r, 10, 30))} ${a(next(), words(r, 2))}.</p>`);
  }
  for (let t = 0; t < 4; t++) {
    const rows = [`<table class="data"><caption>${cap(words(r, 4))}</caption><thead><tr>`, ...Array.from({ length: 5 }, () => `<th scope="col">${cap(words(r, 1))}</th>`), '</tr></thead><tbody>'];
    for (let row = 0; row < 20; row++) {
      rows.push(`<tr><td>${a(next(), cap(words(r, 2)))}</td>` + Array.from({ length: 4 }, () => `<td class="num">${int(r, 0, 99999).toLocaleString('en-US')}</td>`).join('') + '</tr>');
    }
    rows.push('</tbody></table>');
    blocks.push(rows.join('\n'));
  }
  for (let l = 0; l < 6; l++) {
    const tag = l % 2 === 0 ? 'ul' : 'ol';
    blocks.push(`<${tag} class="list">` + Array.from({ length: 10 }, () => `<li>${a(next(), words(r, 3))} <span class="meta">${words(r, 4)}</span></li>`).join('\n') + `</${tag}>`);
  }
  blocks.push(`<figure><img src="https://cdn.example-static.com/img/${i}.jpg" srcset="https://cdn.example-static.com/img/${i}-2x.jpg 2x" alt="${words(r, 5)}" loading="lazy"><figcaption>${words(r, 10)}</figcaption></figure>`);
  blocks.push(`<blockquote><p>${prose(r, 30)}</p></blockquote>`, `<pre><code>${'const x = a &lt; b &amp;&amp; c;\n'.repeat(6)}</code></pre>`, '<!-- ad slot: article-mid -->');

  const aside = ['<aside class="related"><h2>Related</h2><ul>'];
  for (let k = 0; k < 40; k++) aside.push(`<li>${a(next(), cap(words(r, 4)))}</li>`);
  aside.push('</ul></aside>');

  const footer = ['<footer class="site-footer"><div class="cols">'];
  for (let k = 0; k < 30; k++) footer.push(`<div class="col">${a(next(), cap(words(r, 2)))}</div>`);
  for (let k = 0; k < 20; k++) footer.push(`<div class="col">${a(navLinks[k], cap(words(r, 2)))}</div>`); // repeats
  footer.push(`${a('mailto:editor@example.com', 'Contact')} <p>&copy; 2025 Example Media. ${words(r, 8)}</p></div></footer>`);
  footer.push(`<script>window.dataLayer=window.dataLayer||[];dataLayer.push({page:${i}});</script></body></html>`);
  if (li !== 300) throw new Error(`generator bug: ${li} links`);

  const fixed = [head, nav, aside, footer].reduce((n, part) => n + part.join('\n').length, 0) + blocks.reduce((n, b) => n + b.length, 0) + 200;
  let size = fixed;
  while (size < target) {
    const p = `<p>${prose(r, int(r, 60, 120))}</p>`;
    blocks.push(p);
    size += p.length + 1;
  }
  for (let k = blocks.length - 1; k > 0; k--) {
    const j = Math.floor(r() * (k + 1));
    [blocks[k], blocks[j]] = [blocks[j], blocks[k]];
  }
  const main = [`<main id="content"><article><h1>${cap(words(r, 8))}</h1><p class="byline">By ${cap(words(r, 2))}</p>`, ...blocks, '</article>', ...aside, '</main>'];
  return { url, html: [...head, ...nav, ...main, ...footer].join('\n') };
}

/** A ~2 KB page with a title and a handful of links. */
function smallPage(i) {
  const r = mulberry32(seedFor('small', i));
  const url = `https://www.example.com/p/${i}`;
  const target = 2_000 + int(r, -150, 150);
  const L = uniqueLinks(r, 6, i);
  const parts = [
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${cap(words(r, 5))} &mdash; Example</title>`,
    `<meta name="description" content="${words(r, 15)}"><style>body{font:16px/1.5 sans-serif;margin:0 auto;max-width:40em}a{color:#06c}</style></head>`,
    `<body><h1>${cap(words(r, 6))}</h1>`,
    `<ul>${L.map((h) => `<li>${a(h, words(r, 2))}</li>`).join('')}</ul>`,
  ];
  let size = parts.join('').length + 30;
  while (size < target) {
    const p = `<p>${prose(r, Math.max(5, Math.min(40, Math.floor((target - size) / 7))))}</p>`;
    parts.push(p);
    size += p.length;
  }
  parts.push('<footer>&copy; Example</footer></body></html>');
  return { url, html: parts.join('') };
}

// ---------------------------------------------------------------------------------------------------------
// Candidates
// ---------------------------------------------------------------------------------------------------------

const LINK_SELECTOR = 'a[href], area[href]';

function linksOf(hrefs, base) {
  const seen = new Set();
  for (const href of hrefs) {
    const abs = resolveHttp(href, base);
    if (abs === null) continue;
    const hash = abs.indexOf('#');
    seen.add(hash === -1 ? abs : abs.slice(0, hash));
  }
  return [...seen];
}

/**
 * extract()'s body for this spec, over a CheerioAPI built by whichever parser: first-match fields through
 * cheerio-select with a limit of one (as extract() does since 27384d4), links through $(css).toArray().
 */
function viaCheerio($, pageUrl) {
  const root = $.root().get(0);
  const first = (css) => cheerioSelect(css, root, { xmlMode: false }, 1)[0];
  const base = documentBase(first('base[href]')?.attribs.href, pageUrl);
  const t = first('title');
  const title = t === undefined ? null : collapse($(t).text());
  const hrefs = $(LINK_SELECTOR).toArray().map((el) => el.attribs.href);
  return { title, links: linksOf(hrefs, base) };
}

const HP2_VIA_CHEERIO = { xml: { xmlMode: false, decodeEntities: true } };

const CANDIDATES = [
  { id: 'A', label: 'cheerio.load(html) — parse5 (default)', fn: (html, url) => viaCheerio(cheerio.load(html), url) },
  { id: 'B', label: 'cheerio.load(html, {xml:{xmlMode:false}}) — htmlparser2', fn: (html, url) => viaCheerio(cheerio.load(html, HP2_VIA_CHEERIO), url) },
  { id: 'C', label: 'volley extract(): htmlparser2 parse events, no DOM (stream.ts)', fn: (html, url) => extract(html, url, SPEC) },
  { id: 'C2', label: "volley extractFromDom(): cheerio/slim over parseDocument (the -s path)", fn: (html, url) => extractFromDom(html, url, SPEC) },
  // From the bytes, decoding included (what a parse thread does with a page): decoding the page whole, as the
  // threads did before, against extractBody()'s 32 KiB pieces.
  { id: 'Cw', label: 'bytes: decodeHtml() whole + extract()', bytes: true, fn: (html, url, bytes) => extract(decodeHtml(bytes, CONTENT_TYPE), url, SPEC) },
  { id: 'Cb', label: 'bytes: extractBody(), decoded and parsed in 32 KiB pieces (volley)', bytes: true, fn: (html, url, bytes) => extractBody(bytes, CONTENT_TYPE, url, SPEC) },
  {
    id: 'D',
    label: 'parseDocument + css-select, no cheerio',
    fn: (html, url) => {
      const dom = parseDocument(html, { decodeEntities: true });
      const baseEl = selectOne('base[href]', dom);
      const base = documentBase(baseEl?.attribs.href, url);
      const t = selectOne('title', dom);
      const title = t ? collapse(textContent(t)) : null;
      return { title, links: linksOf(selectAll(LINK_SELECTOR, dom).map((el) => el.attribs.href), base) };
    },
  },
  {
    id: 'E',
    label: 'htmlparser2 Parser callbacks, no DOM',
    fn: (html, url) => {
      let linkTag = null; // 'a' | 'area' | 'base' while inside such a start tag
      let hrefSeen = false; // the first of duplicate attributes wins, as in the DOM
      let baseHref;
      const hrefs = [];
      let titleState = 0; // 0 before the first <title>, 1 inside it, 2 after
      let title = '';
      const parser = new Parser(
        {
          onopentagname(name) {
            hrefSeen = false;
            linkTag = name === 'a' || name === 'area' || name === 'base' ? name : null;
            if (name === 'title' && titleState === 0) titleState = 1;
          },
          onattribute(name, value) {
            if (linkTag === null || hrefSeen || name !== 'href') return;
            hrefSeen = true;
            if (linkTag !== 'base') hrefs.push(value);
            else if (baseHref === undefined) baseHref = value;
          },
          ontext(text) {
            if (titleState === 1) title += text;
          },
          onclosetag(name) {
            if (titleState === 1 && name === 'title') titleState = 2;
          },
        },
        { decodeEntities: true },
      );
      parser.end(html);
      return { title: titleState === 0 ? null : collapse(title), links: linksOf(hrefs, documentBase(baseHref, url)) };
    },
  },
];

// ---------------------------------------------------------------------------------------------------------
// Measurement helpers
// ---------------------------------------------------------------------------------------------------------

const rows = [];
function row(section, what, n, runsMs, unit, extra = {}) {
  const ms = median(runsMs);
  rows.push({ section, what, n, ms, runsMs, unit, ...extra });
  log(`${section} | ${what}: ${(ms / 1000).toFixed(3)} s, ${((ms * 1000) / n).toFixed(1)} µs/${unit}`);
  return ms;
}

/** Main-thread GC pause time (ms) since the last reset, by kind; entries arrive asynchronously, see gcSince(). */
const gcPause = { minor: 0, major: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (e.detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) gcPause.major += e.duration;
    else gcPause.minor += e.duration;
  }
}).observe({ entryTypes: ['gc'] });
async function gcReset() {
  await new Promise((r) => setTimeout(r, 20));
  gcPause.minor = gcPause.major = 0;
}
async function gcSince() {
  await new Promise((r) => setTimeout(r, 20));
  return { ...gcPause };
}

function timeSync(fn, pages, collect = true) {
  if (collect) gc();
  let sink = 0;
  const t0 = performance.now();
  for (let i = 0; i < pages.length; i++) sink += fn(pages[i].html, pages[i].url, pages[i].bytes).links.length;
  const ms = performance.now() - t0;
  return { ms, sink };
}

async function timeAsync(body) {
  gc();
  const t0 = performance.now();
  const out = await body();
  return { ms: performance.now() - t0, out };
}

/** Each body owns its ArrayBuffer, exactly sized: ParsePool transfers `body.buffer` whole. */
const encoder = new TextEncoder();
const encodeAll = (pages) => pages.map((p) => encoder.encode(p.html));

function checkAgree(pages, label) {
  for (const p of pages.slice(0, 5)) {
    const ref = JSON.stringify(extract(p.html, p.url, SPEC));
    const refFields = JSON.parse(ref);
    const want = JSON.stringify({ title: refFields.title, links: refFields.links });
    for (const c of CANDIDATES) {
      const got = c.fn(p.html, p.url, encoder.encode(p.html));
      const s = JSON.stringify({ title: got.title, links: got.links });
      if (s !== want) {
        log(`WARNING: candidate ${c.id} disagrees with extract() on ${label} page ${p.url}`);
        c.disagrees = true;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// 1-2. Single-threaded candidates
// ---------------------------------------------------------------------------------------------------------

/** Median GC pause per page over the runs: total (scavenges + mark-compact). */
function gcNote(pauses, n) {
  const per = (k) => (median(pauses.map((p) => p[k])) * 1000) / n;
  return `${(per('minor') + per('major')).toFixed(0)} µs/page (scavenge ${per('minor').toFixed(0)})`;
}

/**
 * Each timed run happens in a fresh child process that loads only its own candidate: V8's young-generation
 * behaviour is history-dependent, and in one shared process a candidate ran after cheerio inherited cheerio's
 * expensive scavenges (D measured ~6.4 ms/page in-process vs ~4.2 ms in a fresh process). Rounds still
 * interleave the candidates, so drift (thermal, neighbours) spreads over all of them.
 */
function childRun(set, cand, n) {
  const res = spawnSync(process.execPath, [fileURLToPath(import.meta.url), `--child=${JSON.stringify({ set, cand, n, snapshotDir })}`], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  });
  if (res.status !== 0) throw new Error(`child ${set}/${cand} exited with ${res.status ?? res.signal}`);
  return JSON.parse(res.stdout.trim().split('\n').pop());
}

async function childMain({ set, cand, n }) {
  const make = set === 'big' ? bigPage : smallPage;
  const pages = Array.from({ length: n }, (_, i) => make(i));
  const c = CANDIDATES.find((x) => x.id === cand);
  if (c.bytes) for (const p of pages) p.bytes = encoder.encode(p.html);
  timeSync(c.fn, pages.slice(0, set === 'big' ? 50 : 500));
  gc();
  await gcReset();
  const { ms, sink } = timeSync(c.fn, pages, false);
  const pause = await gcSince();
  process.stdout.write(`${JSON.stringify({ ms, sink, gc: pause })}\n`);
}

async function singleThreaded(pages, set, section, unitLabel) {
  checkAgree(pages, section);
  const runs = Object.fromEntries(CANDIDATES.map((c) => [c.id, []]));
  const gcRuns = Object.fromEntries(CANDIDATES.map((c) => [c.id, []]));
  const sinks = {};
  for (let round = 0; round < RUNS; round++) {
    for (const c of CANDIDATES) {
      const { ms, sink, gc: pause } = childRun(set, c.id, pages.length);
      gcRuns[c.id].push(pause);
      runs[c.id].push(ms);
      sinks[c.id] = sink;
      log(`${section} round ${round + 1}: ${c.id} ${(ms / 1000).toFixed(3)} s (fresh process)`);
    }
  }
  const cMs = median(runs.C);
  for (const c of CANDIDATES) {
    row(section, `${c.id}. ${c.label}`, pages.length, runs[c.id], unitLabel, {
      rel: `${(median(runs[c.id]) / cMs).toFixed(2)}× C`,
      note:
        `${(sinks[c.id] / pages.length).toFixed(0)} links/page; GC ${gcNote(gcRuns[c.id], pages.length)}` +
        (c.disagrees ? '; DISAGREES with extract()' : ''),
    });
  }
  return runs;
}

// ---------------------------------------------------------------------------------------------------------
// 3. Piscina transport costs, with a throwaway worker in os.tmpdir()
// ---------------------------------------------------------------------------------------------------------

const PROBE_WORKER = `
const decoder = new TextDecoder();
export default function noop() { return 0; }
export function strlen(s) { return s.length; }
export function buflen(b) { return b.byteLength; }
export function bufdecode(b) { return decoder.decode(b).length; }
`;

async function piscinaCosts(bigPages) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'volley-parse-bench-'));
  const file = path.join(dir, 'probe-worker.mjs');
  writeFileSync(file, PROBE_WORKER);
  const pool = new Piscina({ filename: pathToFileURL(file).href, minThreads: THREADS, maxThreads: THREADS, idleTimeout: 60_000 });
  try {
    await Promise.all(Array.from({ length: 2_000 }, () => pool.run(0)));

    const seq = [];
    const conc = [];
    for (let k = 0; k < RUNS; k++) {
      seq.push(
        (
          await timeAsync(async () => {
            for (let i = 0; i < N_EMPTY_SEQ; i++) await pool.run(0);
          })
        ).ms,
      );
      conc.push((await timeAsync(() => Promise.all(Array.from({ length: N_EMPTY }, () => pool.run(0))))).ms);
    }
    row('piscina', 'empty task, awaited one at a time (round-trip latency)', N_EMPTY_SEQ, seq, 'task', { note: `${THREADS} threads` });
    row('piscina', `empty task, ${N_EMPTY.toLocaleString('en-US')} in flight (throughput)`, N_EMPTY, conc, 'task', { note: `${THREADS} threads` });

    const pages = bigPages.slice(0, N_TRANSPORT);
    const avgKB = pages.reduce((n, p) => n + Buffer.byteLength(p.html), 0) / pages.length / 1024;
    const variants = [
      { what: '150 KB page as a string (structured clone)', prep: () => pages.map((p) => p.html), run: (x) => pool.run(x, { name: 'strlen' }) },
      { what: '150 KB page as ArrayBuffer, transferred', prep: () => encodeAll(pages).map((u) => u.buffer), run: (x) => pool.run(x, { name: 'buflen', transferList: [x] }) },
      { what: '150 KB page as ArrayBuffer, copied (no transferList)', prep: () => encodeAll(pages).map((u) => u.buffer), run: (x) => pool.run(x, { name: 'buflen' }) },
      { what: '150 KB ArrayBuffer transferred + TextDecoder in worker', prep: () => encodeAll(pages).map((u) => u.buffer), run: (x) => pool.run(x, { name: 'bufdecode', transferList: [x] }) },
    ];
    for (const v of variants) {
      await Promise.all(v.prep().slice(0, 100).map(v.run));
      const seqRuns = [];
      const concRuns = [];
      for (let k = 0; k < RUNS; k++) {
        let items = v.prep();
        seqRuns.push(
          (
            await timeAsync(async () => {
              for (const x of items) await v.run(x);
            })
          ).ms,
        );
        items = v.prep();
        concRuns.push((await timeAsync(() => Promise.all(items.map(v.run)))).ms);
      }
      row('piscina', `${v.what}, awaited one at a time`, pages.length, seqRuns, 'task', { note: `avg ${avgKB.toFixed(0)} KiB` });
      row('piscina', `${v.what}, all in flight`, pages.length, concRuns, 'task', { note: `avg ${avgKB.toFixed(0)} KiB` });
    }
  } finally {
    await pool.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------
// 4-5. volley's ParsePool vs inline
// ---------------------------------------------------------------------------------------------------------

/** The product's pool with batching switched off: every task carries one page. Same queueing otherwise. */
class UnbatchedParsePool extends ParsePool {
  takeBatch() {
    return [this.queue.shift()];
  }
}

function instrument(pool) {
  const sizes = [];
  const inner = pool.piscina;
  const run = inner.run.bind(inner);
  inner.run = (task, opts) => {
    sizes.push(task.pages.length);
    return run(task, opts);
  };
  return sizes;
}

function inlineDecodeExtract(bodies, pages) {
  let sink = 0;
  for (let i = 0; i < bodies.length; i++) {
    sink += extract(decodeHtml(bodies[i], CONTENT_TYPE), pages[i].url, SPEC).links.length;
  }
  return sink;
}

async function submit(pool, bodies, pages, chunk) {
  const signal = new AbortController().signal;
  let sink = 0;
  const one = (i) => pool.parse({ body: bodies[i], contentType: CONTENT_TYPE, url: pages[i].url }, signal);
  const step = Number.isFinite(chunk) ? chunk : bodies.length;
  for (let i = 0; i < bodies.length; i += step) {
    const idx = [];
    for (let j = i; j < Math.min(i + step, bodies.length); j++) idx.push(j);
    for (const fields of await Promise.all(idx.map(one))) {
      if (!Array.isArray(fields.links)) throw new Error('ParsePool answered without links: mixed builds of dist/?');
      sink += fields.links.length;
    }
  }
  return sink;
}

async function poolVsInline(pages, section, variants) {
  // Inline, on this thread: what the worker does (decode bytes, then extract), and extract() alone on strings.
  timeSync((html, url) => extract(html, url, SPEC), pages.slice(0, 50));
  inlineDecodeExtract(encodeAll(pages.slice(0, 50)), pages);
  const inlineStr = [];
  const inlineBytes = [];
  const gcStr = [];
  const gcBytes = [];
  for (let k = 0; k < RUNS; k++) {
    gc();
    await gcReset();
    inlineStr.push(timeSync((html, url) => extract(html, url, SPEC), pages, false).ms);
    gcStr.push(await gcSince());
    const bodies = encodeAll(pages);
    gc();
    await gcReset();
    const t0 = performance.now();
    inlineDecodeExtract(bodies, pages);
    inlineBytes.push(performance.now() - t0);
    gcBytes.push(await gcSince());
  }
  const inlineMs = median(inlineBytes);
  row(section, 'inline extract() on strings, main thread', pages.length, inlineStr, 'page', {
    rel: `${(inlineMs / median(inlineStr)).toFixed(2)}× inline`,
    note: `GC ${gcNote(gcStr, pages.length)}`,
  });
  row(section, 'inline decodeHtml() + extract() on bytes, main thread', pages.length, inlineBytes, 'page', {
    rel: '1.00× inline',
    note: `GC ${gcNote(gcBytes, pages.length)}`,
  });

  for (const v of variants) {
    const pool = new v.Pool(SPEC, v.threads ?? THREADS, 60_000);
    try {
      await submit(pool, encodeAll(pages.slice(0, 200)), pages, 64); // start and warm both threads
      const sizes = instrument(pool);
      const runs = [];
      for (let k = 0; k < RUNS; k++) {
        const bodies = encodeAll(pages);
        runs.push((await timeAsync(() => submit(pool, bodies, pages, v.chunk))).ms);
      }
      const avgBatch = sizes.reduce((n, s) => n + s, 0) / sizes.length;
      row(section, v.what, pages.length, runs, 'page', {
        rel: `${(inlineMs / median(runs)).toFixed(2)}× inline`,
        note: `avg ${avgBatch.toFixed(1)} pages/task; threads used ${pool.threadIds.size}`,
      });
    } finally {
      await pool.destroy();
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------------

if (childJob !== null) {
  await childMain(childJob);
  process.exit(0);
}

const started = performance.now();
log(`mode ${QUICK ? 'quick' : 'full'}; generating ${N_BIG} × ~150 KB and ${N_SMALL} × ~2 KB pages`);
const bigPages = Array.from({ length: N_BIG }, (_, i) => bigPage(i));
const smallPages = Array.from({ length: N_SMALL }, (_, i) => smallPage(i));
const avgBytes = (ps) => ps.reduce((n, p) => n + Buffer.byteLength(p.html), 0) / ps.length;
const bigAvg = avgBytes(bigPages);
const smallAvg = avgBytes(smallPages);
const bigLinks = extract(bigPages[0].html, bigPages[0].url, SPEC).links.length;
log(`generated in ${((performance.now() - started) / 1000).toFixed(1)} s: big avg ${(bigAvg / 1024).toFixed(1)} KiB, small avg ${(smallAvg / 1024).toFixed(2)} KiB`);

if (ONLY.has('1')) await singleThreaded(bigPages, 'big', '1. single thread, ~150 KB pages', 'page');
if (ONLY.has('2')) await singleThreaded(smallPages, 'small', '2. single thread, ~2 KB pages', 'page');
if (ONLY.has('p')) await piscinaCosts(bigPages);
if (ONLY.has('3')) await poolVsInline(smallPages, `3. ParsePool(threads=${THREADS}) vs inline, ~2 KB pages`, [
  { what: 'ParsePool, batching on (as shipped), all submitted at once', Pool: ParsePool, chunk: Infinity },
  { what: 'ParsePool, batching on, await Promise.all over chunks of 64', Pool: ParsePool, chunk: 64 },
  { what: 'ParsePool, batching on, chunks of 1 (await each parse)', Pool: ParsePool, chunk: 1 },
  { what: 'ParsePool, batching OFF (1 page/task), chunks of 64', Pool: UnbatchedParsePool, chunk: 64 },
  { what: 'ParsePool, batching OFF (1 page/task), all at once', Pool: UnbatchedParsePool, chunk: Infinity },
  { what: 'ParsePool threads=1 (leaves a core to the main thread), batching on, all at once', Pool: ParsePool, chunk: Infinity, threads: 1 },
]);
if (ONLY.has('4')) await poolVsInline(bigPages, `4. ParsePool(threads=${THREADS}) vs inline, ~150 KB pages`, [
  { what: 'ParsePool (as shipped), all submitted at once', Pool: ParsePool, chunk: Infinity },
  { what: 'ParsePool (as shipped), chunks of 1 (await each parse)', Pool: ParsePool, chunk: 1 },
  { what: 'ParsePool threads=1, all submitted at once', Pool: ParsePool, chunk: Infinity, threads: 1 },
]);

// ---------------------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------------------

const fmt = (x, d) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const out = [];
const head = spawnSync('git', ['-C', repo, 'log', '-1', '--format=%h %s'], { encoding: 'utf8' }).stdout?.trim() || '?';
out.push(`### volley parse candidates (${QUICK ? '--quick' : 'full'}${ONLY.size < 5 ? `, sections ${[...ONLY].join(',')}` : ''})`, '');
out.push(`dist/ snapshot taken at start; repository HEAD then: ${head.length > 90 ? `${head.slice(0, 87)}...` : head}`, '');
out.push(
  `Node ${process.version} · ${os.availableParallelism()} cores (${os.cpus()[0]?.model.trim() ?? '?'}) · ${os.platform()} ${os.arch()} · ` +
    `median of ${RUNS} runs · pages: ${N_BIG} × ${fmt(bigAvg / 1024, 1)} KiB (${bigLinks} unique links), ${N_SMALL} × ${fmt(smallAvg / 1024, 2)} KiB · ` +
    `spec ${JSON.stringify(SPEC_INPUT)}`,
  '',
);
out.push('| section | measurement | N | median s | µs / unit | units / s | relative | note | runs (s) |');
out.push('|---|---|---:|---:|---:|---:|---|---|---|');
for (const r of rows) {
  const perUnit = (r.ms * 1000) / r.n;
  out.push(
    `| ${r.section} | ${r.what} | ${fmt(r.n, 0)} | ${fmt(r.ms / 1000, 3)} | ${fmt(perUnit, 1)} / ${r.unit} | ${fmt(r.n / (r.ms / 1000), 0)} | ${r.rel ?? ''} | ${r.note ?? ''} | ${r.runsMs.map((m) => fmt(m / 1000, 2)).join(', ')} |`,
  );
}
out.push(
  '',
  '"relative": sections 1-2 against C (volley\'s extract()); sections 3-4 speed-up over inline decode+extract (>1 = faster). ' +
    'Sections 1-2: every timed run in a fresh child process with only that candidate loaded. ' +
    '"GC": main-thread GC pause per page during the timed run (perf_hooks gc entries), median of the runs. ' +
    'Pool rows count wall time from first submission to last answer; bodies are encoded before the clock starts.',
);
out.push('', `Total bench time ${fmt((performance.now() - started) / 1000, 0)} s.`);
console.log(out.join('\n'));
