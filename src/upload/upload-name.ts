/**
 * The file name the server receives with a de-identified single-file slide. Lab file names often
 * carry an accession number or a patient's name, which de-identifying the bytes does not touch, so
 * the review offers it as a field (FILE_NAME_FIELD, identifying: removed by default); removed, the
 * server gets a neutral name. A DICOM slide is sent under generated instance names (level-0.dcm…),
 * so it has no such field.
 */
export const FILE_NAME_FIELD = 'upload:file-name';

/** The name a de-identified output is uploaded under. */
export function uploadName(slide: { id: string; removeFields: string[] }, outputName: string): string {
  const base = outputName.split('/').pop()!;
  if (!slide.removeFields.includes(FILE_NAME_FIELD)) return base;
  const ext = /\.[A-Za-z0-9]{1,8}$/.exec(base)?.[0].toLowerCase() ?? '';
  return `slide-${slide.id.slice(0, 8)}${ext}`;
}
