/**
 * The one rule for a case number, shared by the cases API, the tus `caseNumber` upload metadata
 * and the manifest's `case` column: trimmed, 1–64 characters, no control characters. The message
 * names the problem, never the value (a case number may be typed from a label).
 */
export const CASE_NUMBER_MAX = 64;

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** null when `v` (after trimming) is a valid case number, else a sentence saying what is wrong. */
export function validateCaseNumber(v: string): string | null {
  const t = v.trim();
  if (t.length === 0) return 'The case number is empty.';
  if (t.length > CASE_NUMBER_MAX) return `The case number is longer than ${CASE_NUMBER_MAX} characters.`;
  if (CONTROL.test(t)) return 'The case number holds control characters.';
  return null;
}
