import type { FieldSummary, ImageSummary } from '../../state/batch-store.ts';

/**
 * Defaults before the user touches anything: identifying fields go, critical and neutral stay
 * ("Auto redact" then also removes neutral ones); label and overview images go, because they are
 * photographs of the glass label with the patient's name or barcode on it.
 */
export function defaultRemovedFields(fields: FieldSummary[]): string[] {
  return fields.filter((f) => f.class === 'phi').map((f) => f.id);
}

export function defaultRemovedImages(images: ImageSummary[]): string[] {
  return images.filter((i) => i.role === 'label' || i.role === 'overview').map((i) => i.id);
}

/** Images a user decides about in step 4 (levels and thumbnails are the slide itself). */
export function associatedImages(images: ImageSummary[]): ImageSummary[] {
  return images.filter((i) => i.role === 'label' || i.role === 'overview');
}
