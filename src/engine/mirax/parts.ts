import type { ByteSource } from '../io/byte-source.ts';
import { SlideError } from '../../shared/errors.ts';

/**
 * Which source is which part of a MIRAX slide, by NAME only (see formats/mirax.ts for the rule):
 * a source may be named 'NAME.mrxs' / 'NAME/Slidedat.ini' or just 'Slidedat.ini'; folders in front
 * are ignored and names compare case-insensitively (Windows copies change case).
 */
export function baseName(source: ByteSource): string {
  const parts = source.name.split(/[\\/]/);
  return parts[parts.length - 1]!;
}

export function isMrxs(source: ByteSource): boolean {
  return baseName(source).toLowerCase().endsWith('.mrxs');
}

export function isSlidedat(source: ByteSource): boolean {
  return baseName(source).toLowerCase() === 'slidedat.ini';
}

/** The one source with this base name, or undefined; two sources with the same name are refused. */
export function findPart(parts: readonly ByteSource[], name: string): number | undefined {
  const want = name.toLowerCase();
  let found: number | undefined;
  parts.forEach((p, i) => {
    if (baseName(p).toLowerCase() !== want) return;
    if (found !== undefined) throw new SlideError('BAD_REQUEST', `two files named ${name} were given for one MIRAX slide`);
    found = i;
  });
  return found;
}

/** Output names: '<base>.mrxs', '<base>/Slidedat.ini', '<base>/Index.dat', '<base>/Data0000.dat', … */
export function dataFileName(i: number): string {
  return `Data${String(i).padStart(4, '0')}.dat`;
}
