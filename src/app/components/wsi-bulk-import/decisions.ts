import type { FieldSummary, ImageSummary } from '../../state/batch-store.ts';
import { FILE_NAME_FIELD } from '../../../shared/upload-name.ts';

/**
 * Defaults before the user touches anything: identifying fields go, critical and neutral stay
 * ("Auto redact" then also removes neutral ones); label and overview images go, because they are
 * photographs of the glass label with the patient's name or barcode on it.
 */
export function defaultRemovedFields(fields: FieldSummary[]): string[] {
  return fields.filter((f) => f.class === 'phi').map((f) => f.id);
}

/**
 * The file name the server receives with a de-identified single-file slide, as a field of its
 * own in the review (see src/shared/upload-name.ts): identifying, so removed by default like the
 * others. Not an engine field: the engine ignores the id.
 */
export function fileNameField(name: string): FieldSummary {
  return {
    id: FILE_NAME_FIELD,
    label: 'File name (sent to the server)',
    value: name,
    class: 'phi',
    reason: 'file names often hold accession numbers or patient names; when removed, the server gets a neutral name',
  };
}

export function defaultRemovedImages(images: ImageSummary[]): string[] {
  return images.filter((i) => i.role === 'label' || i.role === 'overview').map((i) => i.id);
}

/** Images a user decides about in step 4 (levels and thumbnails are the slide itself). */
export function associatedImages(images: ImageSummary[]): ImageSummary[] {
  return images.filter((i) => i.role === 'label' || i.role === 'overview');
}
