/**
 * A scan's display name: what the lab calls it in the worklist. One rule everywhere it is set —
 * a manifest's `name` column, the match editor, the upload's `scanName`, renaming a scan.
 */
export const SCAN_NAME_MAX = 200;

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** null when `v` (trimmed) can be a scan's display name, else the message (never the value). */
export function validateScanName(v: string): string | null {
  const t = v.trim();
  if (t.length === 0) return 'The name is empty.';
  if (t.length > SCAN_NAME_MAX) return `The name is longer than ${SCAN_NAME_MAX} characters.`;
  if (CONTROL.test(t)) return 'The name holds control characters.';
  return null;
}
