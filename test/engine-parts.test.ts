import { describe, expect, it } from 'vitest';
import { FetchError } from '../src/errors.js';
import type { HttpResponse } from '../src/fetch/client.js';
import { ByteBudget } from '../src/schedule/byte-budget.js';
import { Parking } from '../src/schedule/parking.js';
import { followRedirects, type HopRequest } from '../src/schedule/redirect-chain.js';

describe('Parking: the count behind the demand window', () => {
  it('parks for the length of a wait and leaves however it ends', async () => {
    let notified = 0;
    const parking = new Parking(() => notified++);
    let finish = (): void => {};
    const waiting = parking.during(new Promise<void>((resolve) => (finish = resolve)));
    expect(parking.count).toBe(1);
    expect(notified).toBe(1);
    finish();
    await waiting;
    await expect(parking.during(Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(parking.count).toBe(0);
  });

  it('never counts a URL its gate lets through at once, and leaves once when unparked and settled both', async () => {
    const parking = new Parking(() => {});
    await parking.until(async (unpark) => unpark());
    expect(parking.count).toBe(0);

    let letThrough = (): void => {};
    let settle = (): void => {};
    const gated = parking.until(
      (unpark) =>
        new Promise<void>((resolve) => {
          letThrough = unpark;
          settle = resolve;
        }),
    );
    expect(parking.count).toBe(1);
    letThrough();
    expect(parking.count).toBe(0);
    letThrough();
    settle();
    await gated;
    expect(parking.count).toBe(0);
    await expect(parking.until(() => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    expect(parking.count).toBe(0);
  });
});

describe('ByteBudget', () => {
  it('lets requests start below the limit, holds them at it, and wakes them as the bytes are released', async () => {
    const budget = new ByteBudget(100);
    const signal = new AbortController().signal;
    const hold = budget.hold();
    hold.add(60);
    expect(budget.full).toBe(false);
    hold.add(60);
    expect(budget.full).toBe(true);
    let started = false;
    const waiting = budget.room(signal).then(() => (started = true));
    expect(budget.waiting).toBe(1);
    await Promise.resolve();
    expect(started).toBe(false);
    hold.release();
    await waiting;
    expect(budget.held).toBe(0);
    hold.release();
    expect(budget.held).toBe(0);
  });

  it('lets a waiting request go when the run is cancelled', async () => {
    const budget = new ByteBudget(1);
    budget.acquire(10);
    const controller = new AbortController();
    const waiting = budget.room(controller.signal);
    controller.abort();
    await waiting;
    expect(budget.waiting).toBe(0);
  });
});

describe('followRedirects: the one redirect loop for pages and robots.txt', () => {
  const response = (status: number, location: string | null = null): HttpResponse => ({
    status,
    statusText: '',
    headers: {},
    location,
    contentType: null,
    body: null,
    bodyOwned: false,
    bytes: 0,
    retryAfterMs: null,
  });
  const get = (headers: Record<string, string> = {}): HopRequest => ({ method: 'GET', headers, body: null });

  it('follows hop by hop, dropping credentials across origins, and reports where it ended', async () => {
    const seen: [string, Record<string, string>][] = [];
    const answers: Record<string, HttpResponse> = {
      'http://a.test/1': response(301, '/2'),
      'http://a.test/2': response(302, 'http://b.test/3'),
      'http://b.test/3': response(200),
    };
    const end = await followRedirects(new URL('http://a.test/1'), get({ authorization: 'x', accept: '*/*' }), 10, async (url, { headers }) => {
      seen.push([url.href, headers]);
      return answers[url.href]!;
    });
    expect(end.redirects).toBe(2);
    expect(end.url.href).toBe('http://b.test/3');
    expect((end.outcome as HttpResponse).status).toBe(200);
    expect(seen.map(([url, headers]) => [url, 'authorization' in headers])).toEqual([
      ['http://a.test/1', true],
      ['http://a.test/2', true],
      ['http://b.test/3', false],
    ]);
  });

  it('names a loop, the cap and a bad Location with the status of the redirect that carried them', async () => {
    const loop = await followRedirects(new URL('http://a.test/x'), get(), 10, async (url) => response(302, url.pathname === '/x' ? '/y' : '/x'));
    expect(loop.outcome).toMatchObject({ code: 'TOO_MANY_REDIRECTS', status: 302 });
    expect((loop.outcome as FetchError).message).toContain('redirect loop');
    const long = await followRedirects(new URL('http://a.test/0'), get(), 3, async (url) => response(301, `/${Number(url.pathname.slice(1)) + 1}`));
    expect(long).toMatchObject({ redirects: 3, outcome: { code: 'TOO_MANY_REDIRECTS', status: 301 } });
    const ftp = await followRedirects(new URL('http://a.test/'), get(), 3, async () => response(307, 'ftp://a.test/file'));
    expect(ftp).toMatchObject({ redirects: 0, outcome: { code: 'UNSUPPORTED_SCHEME', status: 307 } });
    const failed = await followRedirects(new URL('http://a.test/'), get(), 3, async () => new FetchError('CONNECT', 'refused'));
    expect(failed).toMatchObject({ redirects: 0, outcome: { code: 'CONNECT' } });
  });
});

describe('FetchError across copies of its module', () => {
  it('is a FetchError to every copy (the CLI bundle and the parse pool file each have one)', async () => {
    const src = await import('../src/errors.js');
    // dist/errors.js is tsc's output: another module, another class object, as the bundled CLI sees the pool's.
    const dist = (await import(new URL('../dist/errors.js', import.meta.url).href)) as typeof src;
    expect(dist.FetchError).not.toBe(src.FetchError);
    const cancelled = dist.cancelledAt('parse');
    expect(cancelled instanceof src.FetchError).toBe(true);
    expect(new src.FetchError('PARSE', 'x') instanceof dist.FetchError).toBe(true);
    expect(new Error('x') instanceof src.FetchError).toBe(false);
    expect(Object.assign(new Error('x'), { code: 'PARSE' }) instanceof src.FetchError).toBe(false);
  });
});

describe('Referer on a redirect hop', () => {
  it('is computed again per hop as Fetch does: origin only across origins, none from https to http', async () => {
    const { nextHop } = await import('../src/fetch/redirects.js');
    const referer = 'https://a.test/secret?token=1';
    const hop = (from: string, to: string) => nextHop(new URL(from), to, { referer, 'user-agent': 'v' }) as { headers: Record<string, string> };
    expect(hop('https://a.test/go', '/elsewhere').headers.referer).toBe(referer);
    expect(hop('https://a.test/go', 'https://b.test/').headers.referer).toBe('https://a.test/');
    expect(hop('https://a.test/go', 'http://b.test/').headers).not.toHaveProperty('referer');
    expect(hop('https://a.test/go', 'http://b.test/').headers['user-agent']).toBe('v');
  });
});
