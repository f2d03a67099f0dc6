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

/**
 * Each part's path inside a multi-file slide whose driver finds its parts by name (MIRAX:
 * `X.mrxs`, `X/Slidedat.ini`, `X/Index.dat`, `X/Data0001.dat`), sent as the upload's `path` so the
 * server opens the same slide; undefined for a single file and for DICOM (instances are found by
 * their content, and their output names carry the slide's folder name).
 *
 * De-identified (`names` = the staged outputs' names): the slide's own name — the .mrxs name and
 * its folder's, often an accession number — becomes a neutral one; the files inside the folder
 * keep the engine's names. Direct Upload (`names` = the originals' paths in the pick): the names
 * as picked, below the folder that holds the .mrxs (the user vouched for them).
 */
export function partPaths(slide: { id: string; format?: string }, names: string[], deidentified: boolean): (string | undefined)[] {
  if (names.length < 2 || slide.format === 'dicom-wsi') return names.map(() => undefined);
  const root = names[0]!.lastIndexOf('/') + 1;
  const inSlide = names.map((n) => (n.startsWith(names[0]!.slice(0, root)) ? n.slice(root) : n));
  if (!deidentified) return inSlide;
  const stem = inSlide[0]!.replace(/\.[^./]*$/, '');
  const neutral = `slide-${slide.id.slice(0, 8)}`;
  return inSlide.map((n) => (n === stem || n.startsWith(`${stem}/`) || n.startsWith(`${stem}.`) ? neutral + n.slice(stem.length) : n));
}
