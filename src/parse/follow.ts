import { select } from 'cheerio-select';
import { compile } from 'css-select';
import { isTag, type AnyNode, type Document, type Element } from 'domhandler';

/** The elements `links` reads, as the DOM path finds them (extract.ts `QUERY.baseAndLinks`): the same test. */
const isLink = compile<AnyNode, Element>('a[href], area[href]', { xmlMode: false });

/**
 * The `href`s a crawler follows from a page: those of the links (`a[href]`, `area[href]`) that `css` matches or
 * that sit inside an element it matches, each once, in document order, as written (extract.ts resolves them).
 *
 * `css` runs as a user selector does (cheerio-select, jQuery extensions included, from the page's root). Its
 * matches are only a set here: the page is then walked once in document order, so a link matched twice (itself
 * and its container, or by two parts of a selector list) counts once, and the order is the page's whatever order
 * the engine returns its matches in. The walk keeps its own stack: pages nest deeper than the call stack allows.
 */
export function followHrefs(dom: Document, css: string): string[] {
  const matched = new Set<AnyNode>(select(css, dom, { xmlMode: false }));
  const hrefs: string[] = [];
  if (matched.size === 0) return hrefs;
  // Children pushed in reverse so they pop in document order; `inside` says a matched element encloses the node.
  const stack: { node: AnyNode; inside: boolean }[] = [];
  const pushChildren = (children: readonly AnyNode[], inside: boolean): void => {
    for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i] as AnyNode, inside });
  };
  pushChildren(dom.children, false);
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const el = top.node;
    if (!isTag(el)) continue;
    const inside = top.inside || matched.has(el);
    if (inside && isLink(el)) hrefs.push(el.attribs.href as string);
    pushChildren(el.children, inside);
  }
  return hrefs;
}
