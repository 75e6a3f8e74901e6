import { select } from 'cheerio-select';
import { compile } from 'css-select';
import { isTag, type AnyNode, type Document, type Element } from 'domhandler';

/** The elements `links` reads, as the DOM path finds them (extract-dom.ts `QUERY.baseAndLinks`): the same test. */
const isLink = compile<AnyNode, Element>('a[href], area[href]', { xmlMode: false });
const isBase = compile<AnyNode, Element>('base[href]', { xmlMode: false });

export interface FollowHrefs {
  /** `href` of the first `base[href]`, found on the same walk; undefined without one, or when nothing matched. */
  base: string | undefined;
  hrefs: string[];
}

/**
 * The `href`s a crawler follows from a page: those of the links (`a[href]`, `area[href]`) that `css` matches or
 * that sit inside an element it matches, each once, in document order, as written (extract-dom.ts resolves them
 * against `base`, which the walk picks up on its way rather than with a second, recursive, search).
 *
 * `css` runs as a user selector does (cheerio-select, jQuery extensions included, from the page's root). Its
 * matches are only a set here: the page is then walked once in document order, so a link matched twice (itself
 * and its container, or by two parts of a selector list) counts once, and the order is the page's, whatever order
 * the engine returns its matches in. The walk keeps its own stack: pages nest deeper than the call stack allows.
 */
export function followHrefs(dom: Document, css: string): FollowHrefs {
  const matched = new Set<AnyNode>(select(css, dom, { xmlMode: false }));
  const found: FollowHrefs = { base: undefined, hrefs: [] };
  if (matched.size === 0) return found;
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
    if (inside && isLink(el)) found.hrefs.push(el.attribs.href as string);
    else if (found.base === undefined && isBase(el)) found.base = el.attribs.href;
    pushChildren(el.children, inside);
  }
  return found;
}
