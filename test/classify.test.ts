import { describe, expect, it } from 'vitest';
import { classifyError, noteHeaderLimit } from '../src/fetch/classify.js';

const context = { timedOut: false, cancelled: false, timeoutMs: 1000 };
const error = (code: string, extra: Record<string, unknown> = {}): Error => Object.assign(new Error(`failed: ${code}`), { code, ...extra });

describe('classifyError: connect-phase failures and the rest', () => {
  it.each<[string, Error, string]>([
    ['ECONNREFUSED from connect()', error('ECONNREFUSED', { syscall: 'connect' }), 'CONNECT'],
    ['EHOSTUNREACH from connect()', error('EHOSTUNREACH', { syscall: 'connect' }), 'CONNECT'],
    ['ECONNREFUSED of several addresses (no syscall)', Object.assign(new AggregateError([error('ECONNREFUSED', { syscall: 'connect' })]), { code: 'ECONNREFUSED' }), 'CONNECT'],
    ['undici\'s connect timeout', error('UND_ERR_CONNECT_TIMEOUT'), 'CONNECT'],
    ['EHOSTUNREACH on an established connection (read)', error('EHOSTUNREACH', { syscall: 'read' }), 'RESET'],
    ['ENETUNREACH on write', error('ENETUNREACH', { syscall: 'write' }), 'RESET'],
    ['a certificate from an unknown CA', error('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'TLS'],
    ['a handshake alert', error('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE'), 'TLS'],
    ['a bad record MAC on a live connection', error('ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC'), 'RESET'],
    ['a DNS miss', error('ENOTFOUND', { syscall: 'getaddrinfo' }), 'DNS'],
    ['headers over the limit', error('UND_ERR_HEADERS_OVERFLOW'), 'TOO_LARGE'],
  ])('%s', (_name, err, code) => {
    expect(classifyError(err, context).code).toBe(code);
  });

  it('states the header limit when the dispatcher noted it, and says whose limit otherwise', () => {
    const noted = error('UND_ERR_HEADERS_OVERFLOW');
    noteHeaderLimit(noted, 32768);
    expect(classifyError(noted, context).message).toBe('the response headers were larger than the limit (32768 bytes; maxHeaderSize)');
    expect(classifyError(error('UND_ERR_HEADERS_OVERFLOW'), context).message).toBe(
      "the response headers were larger than the dispatcher's limit (its maxHeaderSize)",
    );
  });
});
