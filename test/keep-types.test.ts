import { describe, expectTypeOf, it } from 'vitest';
import { fetchAll, fetchEach, type FetchResult, type VolleyOptions } from '../src/index.js';

// Type-level only: the functions are never called (no URL is fetched).
describe('result types follow the body option', () => {
  it("types `body` as a string for 'text' and as a Uint8Array for 'bytes'", () => {
    const text = (): ReturnType<typeof fetchAll<{ body: 'text' }>> => fetchAll([], { body: 'text' });
    expectTypeOf<Awaited<ReturnType<typeof text>>[number]['body']>().toEqualTypeOf<string | undefined>();
    const bytes = async () => {
      for await (const r of fetchEach([], { body: 'bytes', responseHeaders: true })) return r.body;
      return undefined;
    };
    expectTypeOf<Awaited<ReturnType<typeof bytes>>>().toEqualTypeOf<Uint8Array | undefined>();
  });

  it('keeps the plain FetchResult when the form is not known literally', () => {
    const any = (o: VolleyOptions) => fetchAll([], o);
    expectTypeOf<Awaited<ReturnType<typeof any>>[number]>().toEqualTypeOf<FetchResult>();
    const none = () => fetchAll([]);
    expectTypeOf<Awaited<ReturnType<typeof none>>[number]['etag']>().toEqualTypeOf<string | null>();
  });
});
