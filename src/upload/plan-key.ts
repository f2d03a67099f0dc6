import type { RedactionRequest } from '../engine/redact/plan-types.ts';

/**
 * The resume key of a zero-copy slide's uploads. Its content hash is known only after the last
 * byte was read, so the upload queue's fingerprint cannot use it: instead, what determines the
 * bytes — the user's decisions (the redaction request, with the batch's UID key) and which
 * originals (size and lastModified of each part). Same key after a reload → the same upload is
 * resumed; a changed decision or original → a new upload. A hash, so no decision or name is
 * stored in clear in the upload URL store.
 */
export async function planKey(request: RedactionRequest, files: { size: number; lastModified: number }[]): Promise<string> {
  const canonical = JSON.stringify({
    removeFields: [...request.removeFields].sort(),
    removeImages: [...request.removeImages].sort(),
    options: Object.fromEntries(Object.entries(request.options ?? {}).sort(([a], [b]) => a.localeCompare(b))),
    parts: files.map((f) => [f.size, f.lastModified]),
  });
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical));
  return [...new Uint8Array(digest).slice(0, 16)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
