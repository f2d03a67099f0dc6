/**
 * The deferred-digest upload contract (issue 15), shared by the server (tus/) and the clients
 * (upload/): a de-identified part read straight from its original is hashed while it is sent, so
 * its SHA-256 is only known when the last byte leaves. Such an upload announces `sha256=deferred`
 * in its Upload-Metadata and sends the digest in the `Upload-Sha256` header of the request that
 * carries its last byte. See README "Upload contract".
 */

/** The Upload-Metadata `sha256` value of a part whose digest comes with its last bytes. */
export const DEFERRED_SHA256 = 'deferred';

/** The request header that carries the part's SHA-256 (64 hex digits) with its last bytes. */
export const UPLOAD_SHA256_HEADER = 'Upload-Sha256';

/** A SHA-256 as hex: 64 hexadecimal digits (either case; compare lower-cased). */
export function isSha256Hex(s: string): boolean {
  return /^[0-9a-f]{64}$/i.test(s);
}
