import type { ByteSource } from '../io/byte-source.ts';
import type { OutputCheckOptions } from '../redact/verify-output.ts';

/**
 * DICOM half of verifyOutputAlone: one instance, checked from its bytes alone.
 * (Being written: see issue 10; until then it reports that it cannot verify, which fails closed.)
 */
export async function verifyDicomOutput(part: ByteSource, _opts: OutputCheckOptions): Promise<string[]> {
  return [`${part.name}: DICOM output verification is not implemented yet`];
}
