import type { ByteSource } from '../io/byte-source.ts';
import { SlideError } from '../../shared/errors.ts';
import { TiffFile } from '../tiff/tifflike.ts';
import { hasDicmPrefix } from '../dicom/part10.ts';
import { verifyTiffOutput } from '../tiff/verify-output.ts';
import { verifyDicomOutput } from '../dicom/verify-output.ts';

/** What an output may hold besides the allowlist: identifying fields the user chose to keep. */
export interface OutputCheckOptions {
  /** Field ids ('tiff:306', 'aperio:Date', 'dicom:00100010', …) the user explicitly kept. */
  keptFields?: ReadonlySet<string>;
  signal?: AbortSignal;
}

/**
 * Verify a de-identified output from its bytes alone (no input, no plan): re-derive which bytes the
 * format's structure accounts for, and fail when any non-zero byte lies outside that map, or when
 * the output holds a field that is neither on the allowlist nor in `keptFields`. The same check runs
 * after every redaction on the client and again on the server when a `deidentified` upload
 * completes. Returns problems in words (never a metadata value); empty = verified.
 */
export async function verifyOutputAlone(parts: ByteSource[], opts: OutputCheckOptions = {}): Promise<string[]> {
  if (parts.length === 0) throw new SlideError('BAD_REQUEST', 'no output files to verify');
  const head = await parts[0]!.read(0, 4, opts.signal);
  if (parts.length === 1 && TiffFile.sniff(head)) return verifyTiffOutput(parts[0]!, opts);
  const problems: string[] = [];
  for (const part of parts) {
    if (!(await hasDicmPrefix(part, opts.signal))) problems.push(`${part.name}: neither a TIFF nor a DICOM file`);
    else problems.push(...(await verifyDicomOutput(part, opts)));
  }
  return problems;
}
