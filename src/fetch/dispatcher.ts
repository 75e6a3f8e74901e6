import { Agent, EnvHttpProxyAgent, type Dispatcher } from 'undici';
import type { NormalizedOptions } from '../options.js';

const PROXY_VARIABLES = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY'];

/**
 * The run's own keep-alive dispatcher; never undici's global one, which a library must leave to its user.
 * With a proxy configured (the `proxy` option, or HTTP_PROXY / HTTPS_PROXY in the environment) it is undici's
 * EnvHttpProxyAgent, which also honours NO_PROXY; otherwise a plain Agent, since EnvHttpProxyAgent reads
 * process.env on every request (measured: about 1% of the main thread on a throughput run).
 * undici's idle timers are switched off: the per-attempt deadline is the one clock.
 */
export function createDispatcher(options: Pick<NormalizedOptions, 'proxy' | 'timeoutMs'>): Dispatcher {
  const agentOptions = {
    headersTimeout: 0,
    bodyTimeout: 0,
    connect: { timeout: options.timeoutMs },
    keepAliveTimeout: 10_000,
  };
  if (options.proxy) return new EnvHttpProxyAgent({ ...agentOptions, httpProxy: options.proxy, httpsProxy: options.proxy });
  if (PROXY_VARIABLES.some((name) => process.env[name])) return new EnvHttpProxyAgent(agentOptions);
  return new Agent(agentOptions);
}
