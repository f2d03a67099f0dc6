import type { UploadOptions } from './options.ts';

/** The CLI's sentences about a slide's case: printed on the user's own terminal, never sent. */

/** How a slide was matched, for the user's own terminal (case numbers may show here; never sent unless confirmed). */
export function matchWords(m: { caseNumber?: string; name?: string; how: string; line?: number; confirmed: boolean; warning?: string } | null, o: UploadOptions): string {
  if (!m || (m.caseNumber === undefined && m.name === undefined)) return `no case matched${m?.warning ? ` (${m.warning})` : ''}`;
  const where = m.how === 'manifest-barcode' ? `manifest line ${m.line}, by barcode` : m.how === 'manifest-file' ? `manifest line ${m.line}, by file name` : 'from its barcode';
  const parts: string[] = [];
  if (m.caseNumber !== undefined) {
    parts.push(m.confirmed ? `case ${m.caseNumber}${o.createCases ? '' : ' (linked if the lab has it)'}` : `case ${m.caseNumber} proposed from its barcode, not confirmed: sent without a case (use --barcode-is-case to confirm barcodes)`);
  }
  if (m.name !== undefined) parts.push(`name "${m.name}"`);
  return `${parts.join(', ')} (${where})${m.warning ? `; ${m.warning}` : ''}`;
}

export function caseWords(link: { caseNumber: string; state: string } | null): string {
  if (!link) return '';
  if (link.state === 'linked') return `, in case ${link.caseNumber}`;
  if (link.state === 'created') return `, in new case ${link.caseNumber}`;
  if (link.state === 'not-found') return `; case ${link.caseNumber} does not exist in the lab, not linked (--create-cases creates it)`;
  return `; not linked to case ${link.caseNumber}`;
}
