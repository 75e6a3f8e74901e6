import { RequestLine } from '../source/request-lines.js';
import { textOf, type SourceLine } from '../source/url-input.js';
import type { CliConfig } from './args.js';
import { workKey } from './resume.js';
import { shardOf } from './shard.js';

/** What the CLI reads from its inputs: URL lines (plain lists) and request lines (`--requests`). */
export type InputItem = SourceLine | RequestLine;

/** The URL an input item names, for --shard: '' for a request line without one (shard 0, as an unparseable URL). */
function urlOf(item: InputItem): string {
  return item instanceof RequestLine ? (item.url ?? '') : textOf(item);
}

/** How --resume knows an input item's work (resume.ts `workKey`); null for a request line that names no URL. */
function keyOf(item: InputItem): string | null {
  if (!(item instanceof RequestLine)) return textOf(item).trim();
  return item.url === null ? null : workKey(item.url, item.meta);
}

/** Whether an input item is this run's: its shard, and not already done (`skip`). */
export function selector(config: CliConfig, skip: Set<string> | null): ((item: InputItem) => boolean) | null {
  const { shard } = config;
  if (!shard && !(skip && skip.size > 0)) return null;
  return (item) => {
    if (shard && shardOf(urlOf(item), shard.count) !== shard.index) return false;
    if (skip && skip.size > 0) {
      const key = keyOf(item);
      if (key !== null && skip.has(key)) return false;
    }
    return true;
  };
}
