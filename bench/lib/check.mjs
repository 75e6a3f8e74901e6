// Every run is checked, not just timed: each URL once, status 200, and the title (and link count on the big
// pages) equal to what the corpus generator recorded. A fast wrong answer is a failure.
import { page } from './corpus.mjs';

const indexOf = (url) => Number(/\/(\d+)$/.exec(url)?.[1]);

/** rows: [{ url, status, title, links (a count) }] → { correct, problems }. W6's POSTs (`post`) are checked by status: the server answers 200 only to the right body. */
export function check(rows, { kind, n, links }) {
  const problems = [];
  const seen = new Set();
  for (const row of rows) {
    const i = indexOf(row.url);
    if (seen.has(i)) problems.push(`${row.url}: twice`);
    seen.add(i);
    const expected = kind === 'post' ? null : page(kind, i);
    if (row.status !== 200) problems.push(`${row.url}: status ${row.status} ${row.error ?? ''}`);
    else if (expected === null) continue;
    else if (row.title !== expected.title) problems.push(`${row.url}: title ${JSON.stringify(row.title)} != ${JSON.stringify(expected.title)}`);
    else if (links && row.links !== expected.links) problems.push(`${row.url}: ${row.links} links != ${expected.links}`);
  }
  if (seen.size !== n) problems.push(`${seen.size} distinct URLs of ${n}`);
  return { correct: problems.length === 0, problems: problems.slice(0, 3), problemCount: problems.length };
}

export function urlsFor({ base, kind, n }) {
  const prefix = kind === 'post' ? 'p' : kind === 'huge' ? 'h' : kind === 'big' ? 'b' : 's';
  return Array.from({ length: n }, (_, i) => `${base}/${prefix}/${i}`);
}
