import type { SlideMatch } from '../shared/case-match.ts';
import { validateCaseNumber } from '../shared/case-number.ts';

/** The scan's display name, as the server takes it (C1 `scanName`). */
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

/**
 * What the upload sends for a slide's match (C1 Upload-Metadata): the display name when there is
 * one, the case number only once the user confirmed it, and `createCase` only with a case number
 * and the batch's permission. Nothing else of the match (how, line, barcodes) leaves the PC.
 */
export function matchMetadata(match: SlideMatch | null | undefined, createMissingCases: boolean | undefined): Record<string, string> {
  if (!match) return {};
  const out: Record<string, string> = {};
  const name = match.name?.trim();
  if (name && validateScanName(name) === null) out.scanName = name;
  const c = match.caseNumber?.trim();
  if (c && match.confirmed && validateCaseNumber(c) === null) {
    out.caseNumber = c;
    if (createMissingCases) out.createCase = '1';
  }
  return out;
}
