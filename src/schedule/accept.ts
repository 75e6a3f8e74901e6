/**
 * Which HTTP statuses count as ok (`--accept`, library `accept`), lychee's `--accept`: single codes and inclusive
 * ranges, e.g. `'200..299,304,403,429'`. A status outside the set stays an HTTP_STATUS failure.
 */

/** A list of statuses: `'200..299, 304'`, or `[200, 204, '300..399', [400, 403]]`. */
export type AcceptSpec = string | ReadonlyArray<number | string | readonly [number, number]>;

/** True when `status` is accepted. */
export type StatusPredicate = (status: number) => boolean;

/** What counts as ok when nothing is said: any 2xx. The pipeline adds 304 itself when it sent validators. */
export const DEFAULT_ACCEPT = '200..299';

const MIN_STATUS = 100;
const MAX_STATUS = 599;
const PIECE = /^(\d+)\s*(?:\.\.\s*(\d+))?$/;

/**
 * Turns an accept list into a predicate: a lookup in a 600-entry table, so it costs nothing per response.
 * Statuses must lie in 100..599; a range's start must not exceed its end.
 *
 * @param spec a comma-separated string (whitespace tolerated) or an array of codes, `'a..b'` strings and `[a, b]`
 *   pairs. @default '200..299'
 * @param name the option named in error messages (`'--accept'` for the CLI). @default 'accept'
 * @throws RangeError naming the bad piece: ``Expected `accept` to be status codes or ranges like 200..299, got `2xx` ``
 */
export function parseAccept(spec: AcceptSpec = DEFAULT_ACCEPT, name = 'accept'): StatusPredicate {
  const table = new Uint8Array(MAX_STATUS + 1);
  const bad = (piece: unknown, why = ''): RangeError => {
    const shown = typeof piece === 'string' ? piece : Array.isArray(piece) ? `[${piece.map(String).join(', ')}]` : show(piece);
    const type = typeof piece === 'string' ? '' : ` (${Array.isArray(piece) ? 'array' : typeof piece})`;
    return new RangeError(`Expected \`${name}\` to be status codes or ranges like 200..299, got \`${shown}\`${type}${why}`);
  };
  const mark = (from: number, to: number, piece: unknown): void => {
    for (const status of [from, to]) {
      if (!Number.isInteger(status) || status < MIN_STATUS || status > MAX_STATUS) throw bad(piece, `: statuses run from ${MIN_STATUS} to ${MAX_STATUS}`);
    }
    if (from > to) throw bad(piece, ': a range runs from low to high');
    table.fill(1, from, to + 1);
  };
  const markString = (piece: string, shown: unknown = piece): void => {
    const m = PIECE.exec(piece.trim());
    if (!m) throw bad(shown);
    const from = Number(m[1]);
    mark(from, m[2] === undefined ? from : Number(m[2]), shown);
  };

  if (typeof spec === 'string') {
    if (spec.trim() === '') throw bad(spec);
    for (const piece of spec.split(',')) markString(piece.trim());
  } else if (Array.isArray(spec)) {
    if (spec.length === 0) throw bad(spec, ': the list is empty');
    for (const piece of spec as ReadonlyArray<unknown>) {
      if (typeof piece === 'number') mark(piece, piece, piece);
      else if (typeof piece === 'string') markString(piece);
      else if (Array.isArray(piece) && piece.length === 2 && typeof piece[0] === 'number' && typeof piece[1] === 'number') mark(piece[0], piece[1], piece);
      else throw bad(piece);
    }
  } else {
    throw bad(spec);
  }
  return (status) => table[status] === 1;
}

function show(value: unknown): string {
  if (typeof value !== 'object' || value === null) return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
