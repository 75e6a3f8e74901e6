import type { ConnectionOptions } from 'node:tls';
import { lazyBuiltin } from '../lazy-builtin.js';

// Required only when a `tls` option is given: most runs leave TLS to Node's defaults.
const nodeCrypto = lazyBuiltin('node:crypto');
const nodeTls = lazyBuiltin('node:tls');

/** TLS settings for the run's own connections (option `tls`; CLI `--insecure`, `--ca`, `--cert`, `--key`). */
export interface TlsOptions {
  /**
   * `false` accepts any certificate: expired, self-signed, for another name. For testing only; a run with it
   * should say so (the CLI warns). @default true
   */
  rejectUnauthorized?: boolean;
  /**
   * Extra trusted CA certificates, PEM text (one or a bundle): a company's internal CA. Added to Node's bundled
   * Mozilla roots (`tls.rootCertificates`), not instead of them. NODE_EXTRA_CA_CERTS is not consulted when this is
   * set: put those certificates in this bundle too.
   */
  ca?: string | Buffer;
  /** A client certificate (PEM, its chain may follow), for servers that ask for one. Needs `key`. */
  cert?: string | Buffer;
  /** The client certificate's private key, PEM, unencrypted. Needs `cert`. */
  key?: string | Buffer;
}

/** `TlsOptions` validated: only what was given. */
export interface NormalizedTls {
  rejectUnauthorized: boolean;
  ca: string | Buffer | null;
  cert: string | Buffer | null;
  key: string | Buffer | null;
}

const KEYS = ['rejectUnauthorized', 'ca', 'cert', 'key'] as const;
const CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function kind(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

/** The certificates of a PEM bundle, each checked to parse; a message naming the option when one does not. */
function certificates(name: 'tls.ca' | 'tls.cert', pem: string | Buffer): void {
  const text = typeof pem === 'string' ? pem : pem.toString('latin1');
  const found = text.match(CERTIFICATE) ?? [];
  if (found.length === 0) {
    const looksLikePath = typeof pem === 'string' && !pem.includes('-----') && pem.length < 4096;
    throw new TypeError(
      `Expected \`${name}\` to be PEM text (-----BEGIN CERTIFICATE-----…), got ${looksLikePath ? `\`${pem}\` (string): pass the file's contents, not its path` : `a ${kind(pem)} without a PEM certificate`}`,
    );
  }
  found.forEach((block, i) => {
    try {
      new (nodeCrypto().X509Certificate)(block);
    } catch (err) {
      throw new TypeError(`Expected \`${name}\` to hold valid certificates, but certificate ${i + 1} of ${found.length} does not parse: ${(err as Error).message}`);
    }
  });
}

/**
 * Validates the `tls` option; throws a TypeError naming the field (`tls.ca`, …), never echoing a key. Checks what
 * Node would otherwise accept silently or report per URL: unknown fields, a path given instead of PEM text, a
 * certificate that does not parse (Node skips those in a CA bundle), a cert without its key, a key that does not
 * belong to the cert. Returns null when there is nothing to set.
 */
export function normalizeTls(value: unknown): NormalizedTls | null {
  if (value === undefined) return null;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`Expected \`tls\` to be an object with ${KEYS.join(', ')}, got a ${kind(value)}`);
  }
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!(KEYS as readonly string[]).includes(key)) throw new TypeError(`Unknown \`tls\` option \`${key}\`: expected ${KEYS.join(', ')}`);
  }
  if (o.rejectUnauthorized !== undefined && typeof o.rejectUnauthorized !== 'boolean') {
    throw new TypeError(`Expected \`tls.rejectUnauthorized\` to be a boolean, got \`${String(o.rejectUnauthorized)}\` (${kind(o.rejectUnauthorized)})`);
  }
  for (const key of ['ca', 'cert', 'key'] as const) {
    const v = o[key];
    if (v !== undefined && typeof v !== 'string' && !Buffer.isBuffer(v)) {
      throw new TypeError(`Expected \`tls.${key}\` to be PEM text (a string or Buffer), got a ${kind(v)}`);
    }
  }
  const ca = (o.ca as string | Buffer | undefined) ?? null;
  const cert = (o.cert as string | Buffer | undefined) ?? null;
  const key = (o.key as string | Buffer | undefined) ?? null;
  if (ca !== null) certificates('tls.ca', ca);
  if ((cert === null) !== (key === null)) {
    throw new TypeError(`Expected \`tls.cert\` and \`tls.key\` together (a client certificate and its key), got ${cert === null ? '`key` without `cert`' : '`cert` without `key`'}`);
  }
  if (cert !== null && key !== null) {
    certificates('tls.cert', cert);
    try {
      nodeCrypto().createPrivateKey(key);
    } catch (err) {
      throw new TypeError(`Expected \`tls.key\` to be an unencrypted PEM private key, but it does not load: ${(err as Error).message}`);
    }
    try {
      nodeTls().createSecureContext({ cert, key });
    } catch (err) {
      throw new TypeError(`Expected \`tls.key\` to be the key of \`tls.cert\`: ${(err as Error).message}`);
    }
  }
  return { rejectUnauthorized: o.rejectUnauthorized !== false, ca, cert, key };
}

/**
 * What goes into every TLS connection of the run (the Agent's `connect`, the proxy agents' `requestTls`): one
 * secure context built once, since a `ca` bundle with Node's ~140 roots costs ~0.1 s to parse (measured), which
 * must not be paid per connection. Empty for null: Node's defaults, untouched.
 */
export function tlsConnectOptions(tls: NormalizedTls | null): ConnectionOptions {
  if (tls === null) return {};
  const options: ConnectionOptions = {};
  if (!tls.rejectUnauthorized) options.rejectUnauthorized = false;
  if (tls.ca !== null || tls.cert !== null) {
    options.secureContext = nodeTls().createSecureContext({
      ...(tls.ca !== null ? { ca: [...nodeTls().rootCertificates, typeof tls.ca === 'string' ? tls.ca : tls.ca.toString('latin1')] } : {}),
      ...(tls.cert !== null && tls.key !== null ? { cert: tls.cert, key: tls.key } : {}),
    });
  }
  return options;
}
