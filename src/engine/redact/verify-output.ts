import type { ByteSource } from '../io/byte-source.ts';
import { SlideError, toSlideError } from '../../shared/errors.ts';
import { formatLabel } from '../../shared/format-names.ts';
import { hasDicmPrefix } from '../dicom/part10.ts';
import { verifyDicomOutput } from '../dicom/verify-output.ts';
import type { OutputCheckOptions, Slide } from '../formats/slide-format.ts';
import { openSlide } from '../open.ts';

export type { OutputCheckOptions };

/**
 * Verify a de-identified output from its bytes alone (no input, no plan): re-derive which bytes the
 * format's structure accounts for, and fail when any non-zero byte lies outside that map, or when
 * the output holds a field that is neither on the allowlist nor in `keptFields`. The same check runs
 * after every redaction on the client and again on the server when a `deidentified` upload
 * completes. Returns problems in words (never a metadata value); empty = verified.
 *
 * DICOM instances are checked one by one. Every other output is re-opened by the driver registry,
 * must read as the same format as its input (`opts.format`: an NDPI that now reads as a plain
 * TIFF lost what made it an NDPI, or was never one), and is checked by its driver.
 */
export async function verifyOutputAlone(parts: ByteSource[], opts: OutputCheckOptions = {}): Promise<string[]> {
  if (parts.length === 0) throw new SlideError('BAD_REQUEST', 'no output files to verify');
  const dicom: boolean[] = [];
  for (const part of parts) dicom.push(await hasDicmPrefix(part, opts.signal));
  if (dicom.every(Boolean)) {
    const problems: string[] = [];
    for (const part of parts) problems.push(...(await verifyDicomOutput(part, opts)));
    if (opts.format && opts.format !== 'dicom-wsi') problems.unshift(`the output is DICOM, not ${formatLabel(opts.format)}`);
    return problems;
  }
  let slide: Slide;
  try {
    slide = await openSlide(parts, opts.signal);
  } catch (e) {
    if (opts.signal?.aborted) throw e;
    // Codes only: a driver's message may name the part, and verification reasons are stored.
    return [`the output cannot be opened as a slide (${toSlideError(e).code})`];
  }
  const problems: string[] = [];
  if (opts.format && slide.format !== opts.format) problems.push(`the output reads as ${formatLabel(slide.format)}, not as ${formatLabel(opts.format)}`);
  if (!slide.verifyAsOutput) return [...problems, `${formatLabel(slide.format)} outputs cannot be verified`];
  problems.push(...(await slide.verifyAsOutput(opts)));
  return problems;
}
