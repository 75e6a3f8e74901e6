import { Tokenizer } from 'htmlparser2';

/**
 * htmlparser2's tokenizer, skipping to the next character it waits for with `String.prototype.indexOf` instead of
 * a loop of `charCodeAt` (`fastForwardTo`). With references not decoded (stream.ts OPTIONS) that skip is how the
 * tokenizer crosses all text, every quoted attribute value, script and style bodies and end tags: on W3's pages
 * it was 15% of a parse thread's time (`--cpu-prof`), and `indexOf` runs V8's vectorised search over a
 * one-byte string. The scan's 150 KB pages 1,180 → 870 µs, its 2 KB pages 26 → 23 µs (bench/skip-tokenizer.mjs).
 *
 * The skip is the same: from the character after `index`, within the current piece (`buffer`, which starts at
 * `offset` of the whole input), to the first `c`, else to the piece's last character. Every state, callback and
 * tree decision stays htmlparser2's. It goes through the parser's public `Tokenizer` option, but the method and
 * the three fields are the tokenizer's own, unexported: htmlparser2 is pinned to one minor (package.json), the
 * override is installed only where the method exists and kept only if a probe at load gives the stock tokenizer's
 * events (`install`), and test/skip-tokenizer.test.ts fails if it stops being called or stops giving the stock
 * tokenizer's events, piece by piece. Proposed upstream:
 * docs/upstream/htmlparser2-fast-forward-indexof.md.
 */
export class SkipTokenizer extends Tokenizer {}

/** The tokenizer's own state that the skip reads and moves. */
interface SkipState {
  buffer: string;
  index: number;
  offset: number;
}

function fastForwardTo(this: SkipState, c: number): boolean {
  const at = this.buffer.indexOf(String.fromCharCode(c), this.index + 1 - this.offset);
  if (at !== -1) {
    this.index = at + this.offset;
    return true;
  }
  // The tokenizer's loop adds one to the index after each state, so the piece ends on its last character.
  this.index = this.buffer.length + this.offset - 1;
  return false;
}

type Callbacks = ConstructorParameters<typeof Tokenizer>[1];

/**
 * Markup that makes the tokenizer skip in each of its ways, in pieces that cut through a quoted value, a script
 * body and an end tag.
 */
const PROBE = ['<p class="a>b">x < y &amp; z</p><script>if (a<b) c("</p>")</scr', 'ipt><!-- c -- -->', "<a href='/z'>t</a></ p>tail<"];

/** One callback a tokenizer made: its name, then its arguments. */
export type TokenEvent = [string, ...unknown[]];

/** Every callback a tokenizer of this kind makes on `pieces` written one after another, in order. */
export function tokenEvents(Kind: typeof Tokenizer, pieces: readonly string[], options: { decodeEntities: boolean; xmlMode: boolean }): TokenEvent[] {
  const events: TokenEvent[] = [];
  const cbs = new Proxy({}, { get: (_target, name) => (...args: unknown[]) => void events.push([String(name), ...args]) }) as Callbacks;
  const tokenizer = new Kind(options, cbs);
  for (const piece of pieces) tokenizer.write(piece);
  tokenizer.end();
  return events;
}

/** Every callback a tokenizer of this kind makes on PROBE, as one string. */
export function probe(Kind: typeof Tokenizer): string {
  return JSON.stringify(tokenEvents(Kind, PROBE, { decodeEntities: false, xmlMode: false }));
}

/**
 * Installs the skip, and keeps it only if the tokenizer still reports PROBE exactly as the stock one does: a
 * release within the pinned minor that renamed the fields it moves then costs the speed-up, not wrong fields.
 */
function install(): boolean {
  if (typeof (Tokenizer.prototype as unknown as Record<string, unknown>)['fastForwardTo'] !== 'function') return false;
  Object.defineProperty(SkipTokenizer.prototype, 'fastForwardTo', { value: fastForwardTo, writable: true, configurable: true });
  let same = false;
  try {
    same = probe(SkipTokenizer) === probe(Tokenizer);
  } catch {
    // A tokenizer whose fields are not what the skip expects may throw: the stock method it is, then.
  }
  if (!same) delete (SkipTokenizer.prototype as unknown as Record<string, unknown>)['fastForwardTo'];
  return same;
}

/** Whether the skip is in place: htmlparser2 still has the method it replaces, and the probe found it the same. */
export const skipsWithIndexOf = install();
