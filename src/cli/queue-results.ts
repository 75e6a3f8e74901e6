import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { normalizeOptions } from '../options.js';
import type { FetchResult } from '../result.js';
import { streamSink, type Encoder } from '../sink/sink.js';
import { jsonlEncoder } from '../sink/jsonl.js';
import { resultsOn } from '../queue/api.js';
import { workerOptions, type JobRun } from '../queue/job.js';
import type { ConnectedQueue } from '../queue/connect.js';
import { EXIT } from './args.js';
import { parseFlags } from './queue-args.js';
import type { CliIo } from './run.js';
import { UsageError } from './usage-error.js';

/**
 * `volley queue results [-o FILE] [-f jsonl|csv|json] [--csv-raw] [--after ID] [--follow] [--trim]`: the job's
 * final rows through the main command's sinks (same encoders, same backpressure, same write-failure handling).
 *
 * `--trim` deletes from Redis the rows written, once the output has taken them (after each batch, and at the
 * end): Redis memory stays bounded on a long job. At-least-once: a crash between a write and its trim exports
 * those rows again on the next run from the same `--after`, never loses one; a failed write trims nothing.
 */

export const RESULTS_FLAGS = { boolean: ['follow', 'trim', 'csv-raw'], string: ['output', 'after', 'format'], alias: { output: 'o', format: 'f' } };

const FORMATS = ['jsonl', 'csv', 'json'] as const;
type Format = (typeof FORMATS)[number];

/** The CSV columns a job's rows have: from its extraction and `--headers`, as the main command's. */
async function encoderFor(format: Format, run: JobRun | null, raw: boolean): Promise<Encoder> {
  if (format === 'json') return (await import('../sink/json.js')).jsonEncoder;
  if (format === 'jsonl') return jsonlEncoder;
  const { csvEncoder } = await import('../sink/csv.js');
  const x = normalizeOptions(workerOptions(run)).extract;
  // A job can hold request objects with `meta` beside plain URLs: the column is always there.
  const shape = { meta: true, canonical: x?.canonical ?? false, lang: x?.lang ?? false, links: x?.links ?? false, select: x?.select.map((s) => s.name) ?? [] };
  return csvEncoder({ ...shape, headers: run?.options.responseHeaders === true }, { raw });
}

/** Resolves once `out` has handed every byte written so far to the OS; rejects with its write error. */
function flushed(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    if (out.destroyed) return reject(new Error('the output was closed'));
    out.write('', (err) => (err ? reject(err) : resolve()));
  });
}

export async function resultsCommand(connect: () => Promise<ConnectedQueue>, flags: string[], io: Pick<CliIo, 'stdout' | 'stderr'>, signal: AbortSignal): Promise<number> {
  const a = parseFlags('queue results', flags, RESULTS_FLAGS);
  if (a._.length > 0) throw new UsageError(`volley queue results takes no words, got ${JSON.stringify(String(a._[0]))}`);
  const format = (a.format ?? 'jsonl') as Format;
  if (!FORMATS.includes(format)) throw new UsageError(`-f/--format expects jsonl, csv or json, got ${JSON.stringify(String(a.format))}`);
  if (a['csv-raw'] === true && format !== 'csv') throw new UsageError(`--csv-raw applies to -f csv only, got -f ${format}`);
  const after = typeof a.after === 'string' ? a.after.trim() : null;
  if (after !== null && !/^\d+-\d+$/.test(after)) throw new UsageError(`--after expects a row id like 1733389200000-0 (printed at the end of an earlier run), got ${JSON.stringify(after)}`);
  const trim = a.trim === true;
  const queue = await connect();
  try {
    return await exportRows(queue, { format, raw: a['csv-raw'] === true, output: typeof a.output === 'string' ? a.output : null, after, follow: a.follow === true, trim }, io, signal);
  } finally {
    await queue.close().catch(() => {});
  }
}

interface ExportOptions {
  format: Format;
  raw: boolean;
  output: string | null;
  after: string | null;
  follow: boolean;
  trim: boolean;
}

async function exportRows(queue: ConnectedQueue, { format, raw, output, after, follow, trim }: ExportOptions, io: Pick<CliIo, 'stdout' | 'stderr'>, signal: AbortSignal): Promise<number> {
  const settings = await queue.settings();
  const encoder = await encoderFor(format, (settings?.run ?? null) as JobRun | null, raw);
  const out: Writable = output !== null ? createWriteStream(output) : io.stdout;
  const sink = streamSink(out, encoder, { owned: out !== io.stdout });
  let last: string | null = after;
  let trimmedThrough: string | null = null;
  let rows = 0;
  let trimmed = 0;
  let unwritten: unknown = null;
  /** Trims through the last row written, once the output has it (`flush`: waits for that; after `end()` it has). */
  const trimWritten = async (flush: boolean): Promise<void> => {
    if (!trim || last === null || last === trimmedThrough || sink.error !== null) return;
    if (flush) await flushed(out);
    trimmed += await queue.trimResults(last);
    trimmedThrough = last;
  };
  try {
    let sinceTrim = 0;
    for await (const { id, row } of resultsOn(queue, after, follow, signal)) {
      // As Redis holds it: a body sent as base64 stays base64 (`bodyEncoding`), as the main command writes it.
      await sink.write(JSON.parse(row) as FetchResult);
      if (sink.error !== null) break;
      last = id;
      rows++;
      // Every 1,000 rows (a read's batch), so a long --follow keeps Redis bounded too.
      if (++sinceTrim >= 1000) {
        sinceTrim = 0;
        await trimWritten(true);
      }
    }
  } catch (err) {
    unwritten = err;
  }
  await sink.end();
  // The reader went away (`| head`): it has what it wanted, as with the main command: quiet, exit 0, and nothing
  // more trimmed (the rows it did not read stay in Redis).
  if (output === null && (sink.error as NodeJS.ErrnoException | null)?.code === 'EPIPE') return EXIT.OK;
  if (sink.error !== null) {
    io.stderr.write(`volley: cannot write the results${output !== null ? ` to ${output}` : ''}: ${sink.error.message}${trim ? ' (nothing more trimmed)' : ''}\n`);
    return EXIT.IO_ERROR;
  }
  if (unwritten !== null) throw unwritten;
  await trimWritten(false);
  const resume = last === null ? '' : `; the last one's id is ${last} (--after ${last} reads on from there)`;
  io.stderr.write(`volley: ${rows} rows${trim ? `, ${trimmed} trimmed from Redis` : ''}${resume}\n`);
  return signal.aborted ? EXIT.SIGINT : EXIT.OK;
}
