import type { SlideMatch } from './case-match.ts';
import { validateCaseNumber } from './case-number.ts';
import { validateScanName } from './scan-name.ts';


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
