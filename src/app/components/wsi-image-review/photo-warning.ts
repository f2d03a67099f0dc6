import type { ImageRole } from '../../../engine/formats/slide-format.ts';

/** Plain names of the photographs of the glass slide that a user decides about. */
export const ROLE_LABEL: Partial<Record<ImageRole, string>> = { label: 'Label', overview: 'Overview (macro)' };

/**
 * What keeping a photo of the glass slide means. A label photo shows the label itself; an
 * overview (macro) photo shows the whole slide, label included, on nearly every scanner.
 */
export function keptPhotoWarning(role: ImageRole): string {
  return role === 'label'
    ? 'This image shows the slide label: it may hold identifying text (a name, a case number, a barcode).'
    : 'This overview image usually shows the slide label too: it may hold identifying text (a name, a case number, a barcode).';
}
