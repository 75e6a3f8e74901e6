/** Fields pulled out of one HTML page; only those the extraction spec asked for are set. */
export interface ParsedFields {
  title: string | null;
  description: string | null;
  canonical?: string | null;
  lang?: string | null;
  links?: string[];
  data?: Record<string, string | string[] | null>;
}

/** A page handed to the parse stage. `body` is transferred to a worker: the caller must not touch it afterwards. */
export interface Page {
  body: Uint8Array;
  contentType: string | null;
  /** The final URL, which relative links resolve against (after `<base href>`). */
  url: string;
}

/**
 * The parse stage's seam: the pipeline knows only this. Rejects with a FetchError (PARSE or CANCELLED);
 * `destroy()` releases every thread so nothing keeps the process alive.
 */
export interface PageParser {
  parse(page: Page, signal: AbortSignal): Promise<ParsedFields>;
  destroy(): Promise<void>;
}
