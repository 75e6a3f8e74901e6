import { EnvHttpProxyAgent, type Dispatcher } from 'undici';
import type { NormalizedOptions } from '../options.js';

/**
 * The run's own keep-alive dispatcher; never undici's global one, which a library must leave to its user.
 * EnvHttpProxyAgent is a plain Agent unless HTTP_PROXY / HTTPS_PROXY are set, and honours NO_PROXY; `proxy`
 * overrides the variables. undici's idle timers are switched off: the per-attempt deadline is the one clock.
 */
export function createDispatcher(options: Pick<NormalizedOptions, 'proxy' | 'timeoutMs'>): Dispatcher {
  return new EnvHttpProxyAgent({
    ...(options.proxy ? { httpProxy: options.proxy, httpsProxy: options.proxy } : {}),
    headersTimeout: 0,
    bodyTimeout: 0,
    connect: { timeout: options.timeoutMs },
    keepAliveTimeout: 10_000,
  });
}
