import { SCAN_NAME_MAX, validateScanName } from '../../shared/scan-name.ts';
import { parseKeptFields } from '../../shared/kept-fields.ts';
import { validateCaseNumber } from '../../shared/case-number.ts';
import { DEFERRED_SHA256, isSha256Hex } from '../../shared/upload-digest.ts';

/** Upload-Metadata of one part, validated (see ARCHITECTURE.md "Upload contract"). */
export interface PartMetadata {
  filename: string;
  /**
   * Wire key `path`: the part's relative path inside a multi-file slide whose driver finds its
   * parts by name (MIRAX: `X.mrxs`, `X/Slidedat.ini`, `X/Data0001.dat`); its last segment is
   * `filename`. Absent for single files and DICOM instances.
   */
  partPath?: string;
  slideId: string;
  /** 0-based index of this part within the slide. */
  part: number;
  parts: number;
  format: string;
  /**
   * 64 lower-case hex digits, or DEFERRED_SHA256 (`deidentified` parts only): the digest then
   * comes in the Upload-Sha256 header with the last bytes (shared/upload-digest.ts).
   */
  sha256: string;
  mode: 'deidentified' | 'direct';
  batchId: string;
  /**
   * Identifying fields the user chose to keep (field ids, `deidentified` parts only): the server's
   * verification of the stored bytes tolerates exactly these. Absent = none kept.
   */
  keptFields?: string[];
  /** The display name the scan gets instead of defaultScanName (trimmed, 1–200 characters). */
  scanName?: string;
  /**
   * A case number the user confirmed: once ingested, the scan is linked to the lab's case with this
   * number (see ingest/case-link.ts). The one value from a slide's label that may reach the server.
   */
  caseNumber?: string;
  /** Wire value '1', only with caseNumber: create the case when the lab has none with that number. */
  createCase?: boolean;
}


export const maxParts = 100000;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const batchIdPattern = /^[A-Za-z0-9_-]{1,64}$/;
const formatPattern = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** A plain file name: no directories, no control characters, not '.' or '..'. */
function plainName(n: string): boolean {
  return n.length > 0 && n.length <= 255 && !/[/\\\u0000-\u001f\u007f]/.test(n) && n !== '.' && n !== '..';
}

/** Folders a part path may go down: a MIRAX slide needs one. */
const maxPathDepth = 8;

function int(v: string | null | undefined): number | undefined {
  if (v == null || !/^\d{1,9}$/.test(v)) return undefined;
  return Number(v);
}

/** Returns the parsed metadata, or a message naming the first bad key (never echoing its value). */
export function parsePartMetadata(md: Record<string, string | null> | undefined): PartMetadata | string {
  if (!md) return 'Upload-Metadata is required';
  const filename = md.filename ?? '';
  // A bare name: no directories, no control characters.
  if (!plainName(filename)) return 'filename must be a plain file name';
  let partPath: string | undefined;
  if (md.path != null) {
    // Relative, '/'-separated, every segment a plain name (no '..', no absolute path, no '\\').
    const segments = md.path.split('/');
    if (md.path.length > 1024 || segments.length > maxPathDepth || !segments.every(plainName)) return 'path must be a relative path of plain names';
    if (segments[segments.length - 1] !== filename) return 'path must end with filename';
    partPath = md.path;
  }
  const slideId = md.slideId ?? '';
  if (!uuid.test(slideId)) return 'slideId must be a UUID';
  const parts = int(md.parts);
  if (parts === undefined || parts < 1 || parts > maxParts) return `parts must be a whole number from 1 to ${maxParts}`;
  const part = int(md.part);
  if (part === undefined || part >= parts) return 'part must be a whole number from 0 to parts-1';
  const format = md.format ?? '';
  if (!formatPattern.test(format)) return 'format must be a format name such as aperio-svs';
  const sha256 = (md.sha256 ?? '').toLowerCase();
  if (sha256 !== DEFERRED_SHA256 && !isSha256Hex(sha256)) return 'sha256 must be 64 hexadecimal digits';
  const mode = md.mode;
  if (mode !== 'deidentified' && mode !== 'direct') return 'mode must be deidentified or direct';
  // A Direct Upload sends a file that exists as it is: its client can always hash it first.
  // Deferring is for bytes produced while they are sent (a de-identified view of the original).
  if (sha256 === DEFERRED_SHA256 && mode !== 'deidentified') return 'sha256 may only be deferred for deidentified parts';
  const batchId = md.batchId ?? '';
  if (!batchIdPattern.test(batchId)) return 'batchId must be 1-64 letters, digits, _ or -';
  let keptFields: string[] | undefined;
  if (md.keptFields != null) {
    // The user vouched for a Direct Upload as a whole: there is nothing to keep "besides" anything.
    if (mode !== 'deidentified') return 'keptFields is only for deidentified parts';
    const parsed = parseKeptFields(md.keptFields);
    if (typeof parsed === 'string') return parsed;
    keptFields = parsed;
  }
  // Issue 14: case and name. Messages name the key, never the value (it may come from a label).
  let scanName: string | undefined;
  if (md.scanName != null) {
    scanName = md.scanName.trim();
    if (validateScanName(scanName) !== null) return `scanName must be 1 to ${SCAN_NAME_MAX} characters without control characters`;
  }
  let caseNumber: string | undefined;
  if (md.caseNumber != null) {
    if (validateCaseNumber(md.caseNumber) !== null) return 'caseNumber must be 1 to 64 characters without control characters';
    caseNumber = md.caseNumber.trim();
  }
  let createCase: boolean | undefined;
  if (md.createCase != null) {
    if (md.createCase !== '1') return 'createCase must be 1';
    if (caseNumber === undefined) return 'createCase is only allowed with caseNumber';
    createCase = true;
  }
  return {
    filename, ...(partPath ? { partPath } : {}), slideId: slideId.toLowerCase(), part, parts, format, sha256, mode, batchId,
    ...(keptFields ? { keptFields } : {}),
    ...(scanName !== undefined ? { scanName } : {}),
    ...(caseNumber !== undefined ? { caseNumber } : {}),
    ...(createCase ? { createCase } : {}),
  };
}
