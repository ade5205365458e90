/**
 * Whether a connection failed because the peer's certificate is not trusted here (self-signed,
 * unknown issuer, expired, another name): the case --insecure exists for. Node reports these
 * with OpenSSL's codes; undici puts the error in `cause`.
 */
const UNTRUSTED_CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function isUntrustedCertificate(error: { code?: string } | undefined): boolean {
  return error?.code !== undefined && UNTRUSTED_CERTIFICATE_CODES.has(error.code);
}

/**
 * Whether a TLS handshake failed because the other side answered in plain HTTP (an https://
 * URL given for a plain-HTTP port): OpenSSL reads the HTTP answer as a TLS record of a "wrong
 * version". --insecure cannot help there; only http:// can.
 */
export function speaksPlainHttp(error: { code?: string; message?: string; cause?: unknown } | undefined): boolean {
  for (let e: typeof error = error, depth = 0; e && depth < 3; e = e.cause as typeof error, depth++) {
    if (e.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || e.code === 'ERR_SSL_HTTP_REQUEST') return true;
    if (/wrong version number|packet length too long|http request/i.test(e.message ?? '') && /ssl|tls|EPROTO/i.test(`${e.code ?? ''} ${e.message ?? ''}`)) return true;
  }
  return false;
}

/** The words for speaksPlainHttp, the same for listen's forwards, replay and conformance. */
export const PLAIN_HTTP_WORDS = 'the target speaks plain HTTP: use http://';

/** The hint that goes with them: the same URL with http://. */
export function plainHttpHint(url: URL): string {
  const plain = new URL(url.href);
  plain.protocol = 'http:';
  return `Nothing at ${url.host} speaks TLS; use ${plain.href} instead.`;
}
