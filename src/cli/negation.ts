import { FLAGS, type Flag, type FlagName } from './flags.js';
import { UsageError } from './usage-error.js';

// The names the command line knows, in every spelling, and the check of `--no-X` words against them: shared by
// the quick parse (yargs-parser alone) and yargs (args.ts), so that both accept and refuse the same words.

/** `--max-bytes` -> `maxBytes`: the spelling yargs-parser's camel-case expansion also accepts. */
const camelCase = (name: string): string => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * Every spelling of an option that either parser takes (`max-bytes`, `maxBytes`, `c`) -> its long name, and
 * whether it is a switch. Derived from the table, so that the quick parse knows exactly the options yargs knows.
 */
export const SPELLINGS: ReadonlyMap<string, { name: string; isSwitch: boolean }> = (() => {
  const map = new Map<string, { name: string; isSwitch: boolean }>();
  const add = (name: string, alias: string | undefined, isSwitch: boolean) => {
    for (const spelling of [name, camelCase(name), ...(alias === undefined ? [] : [alias])]) map.set(spelling, { name, isSwitch });
  };
  for (const [name, flag] of Object.entries(FLAGS) as [FlagName, Flag][]) add(name, flag.alias, flag.type === 'boolean');
  add('help', 'h', true);
  add('version', 'V', true);
  return map;
})();

/**
 * `--no-X` is accepted only where `--X` is a switch. yargs-parser reads `--no-` before any name as "X is false":
 * before an unknown one it made a key that the quick parse took for known (`--no-respect-robot` ran as if not
 * typed), and before a flag that takes a value it gave the value `false` (`--no-output` wrote to a file named
 * `false`). Checked on the words, before either parser, so that both give this message. A `--no-X` word is never
 * a flag's value: a flag that takes one refuses a word starting with `-` ("Not enough arguments following").
 */
export function checkNegations(argv: string[]): void {
  for (const word of argv) {
    if (word === '--') return;
    // `--no-x=1` is not a negation to yargs-parser but an option named `no-x`: the unknown-option check has it.
    const typed = /^--no-([^=]+)$/.exec(word)?.[1];
    if (typed === undefined) continue;
    const known = SPELLINGS.get(typed);
    if (known?.isSwitch) continue;
    if (known !== undefined) throw new UsageError(`${word}: --${known.name} takes a value; only a switch (such as --progress) can be turned off with --no-`);
    const near = nearestSwitch(typed);
    throw new UsageError(`Unknown argument: ${word}${near === undefined ? '' : ` (did you mean --no-${near}?)`}`);
  }
}

/** The switch a mistyped name most likely meant: the nearest within two edits (Levenshtein distance), if any. */
function nearestSwitch(typed: string): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const [name, flag] of Object.entries(FLAGS) as [FlagName, Flag][]) {
    if (flag.type !== 'boolean') continue;
    const d = editDistance(typed, name);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length] as number;
}

