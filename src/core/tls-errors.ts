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
