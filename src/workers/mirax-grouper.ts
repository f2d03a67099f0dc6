import { SlideError } from '../shared/errors.ts';

/**
 * The FileGrouper for MIRAX (3DHistech): a slide is `NAME.mrxs` plus a folder `NAME/` beside it
 * holding Slidedat.ini, Index.dat and the Data*.dat files. A folder pick gives each file its path
 * inside the pick (webkitRelativePath, or the walk of a picked directory), which is the only way
 * to tell one slide's `NAME/Slidedat.ini` from another's: grouping is by path, never by content.
 *
 * Each group's files get their names INSIDE the slide (`NAME.mrxs`, `NAME/Slidedat.ini`, …): the
 * MIRAX driver finds its parts by those names, whatever folders the pick put above them.
 */

export interface MiraxGrouping {
  groups: File[][];
  /** Per group (same index): each file's name inside the slide. */
  names: string[][];
  rest: File[];
  /** Files that belong to a MIRAX slide that cannot be opened as picked: one failed row each. */
  refused: { files: File[]; error: SlideError }[];
}

const MRXS = /\.mrxs$/i;
/** What a MIRAX slide folder holds that the slide may need; anything else in it is skipped. */
const SLIDE_FOLDER_FILE = /^(slidedat\.ini|index\.dat|[^/]*\.dat)$/i;

function splitPath(path: string): { dir: string; base: string } {
  const i = path.lastIndexOf('/');
  return { dir: i < 0 ? '' : path.slice(0, i), base: path.slice(i + 1) };
}

/** Slidedat.ini and Index.dat first (the driver reads them first), then the Data files in name order. */
function partRank(base: string): number {
  const b = base.toLowerCase();
  return b === 'slidedat.ini' ? 0 : b === 'index.dat' ? 1 : 2;
}

export async function groupMiraxFiles(files: File[], paths?: ReadonlyMap<File, string>): Promise<MiraxGrouping> {
  const pathOf = (f: File) => paths?.get(f) ?? f.name;
  // Files directly inside each folder, by the folder's path in lower case: Windows and macOS
  // folders match whatever the case of the .mrxs name.
  const byDir = new Map<string, File[]>();
  for (const f of files) {
    const { dir } = splitPath(pathOf(f));
    const key = dir.toLowerCase();
    byDir.set(key, [...(byDir.get(key) ?? []), f]);
  }
  const taken = new Set<File>();
  const out: MiraxGrouping = { groups: [], names: [], rest: [], refused: [] };
  const slideFiles = files.filter((f) => MRXS.test(pathOf(f))).sort((a, b) => pathOf(a).localeCompare(pathOf(b)));
  for (const mrxs of slideFiles) {
    const { dir, base } = splitPath(pathOf(mrxs));
    const stem = base.slice(0, -'.mrxs'.length);
    const folder = (dir ? `${dir}/${stem}` : stem).toLowerCase();
    const inFolder = byDir.get(folder) ?? [];
    const members = inFolder.filter((f) => SLIDE_FOLDER_FILE.test(splitPath(pathOf(f)).base));
    taken.add(mrxs);
    // Everything else in the slide's folder is not a slide of its own (exports, Thumbs.db): skipped.
    for (const f of inFolder) taken.add(f);
    if (members.length === 0) {
      // The .mrxs alone (picked as a file, or its folder left out): MIRAX files lying next to it
      // (a flat pick of the folder's files) belong to this refusal, not to rows of their own.
      const beside = (byDir.get(dir.toLowerCase()) ?? []).filter((f) => f !== mrxs && !taken.has(f) && SLIDE_FOLDER_FILE.test(splitPath(pathOf(f)).base) && !MRXS.test(pathOf(f)));
      for (const f of beside) taken.add(f);
      out.refused.push({
        files: [mrxs, ...beside],
        error: new SlideError('BAD_REQUEST', `${base}: a MIRAX slide is a .mrxs file and a folder of the same name — pick the folder that holds ${base} and its ${stem} folder`),
      });
      continue;
    }
    const ordered = members
      .map((f) => ({ f, base: splitPath(pathOf(f)).base }))
      .sort((a, b) => partRank(a.base) - partRank(b.base) || a.base.localeCompare(b.base, 'en', { numeric: true }));
    out.groups.push([mrxs, ...ordered.map((m) => m.f)]);
    // The folder is named after the .mrxs (as the driver expects), whatever case the disk gave it.
    out.names.push([base, ...ordered.map((m) => `${stem}/${m.base}`)]);
  }
  // A MIRAX slide folder whose .mrxs was not picked: one refusal for the folder, not a row per file.
  for (const inDir of byDir.values()) {
    const left = inDir.filter((f) => !taken.has(f));
    if (!left.some((f) => splitPath(pathOf(f)).base.toLowerCase() === 'slidedat.ini')) continue;
    const folderName = splitPath(splitPath(pathOf(left[0]!)).dir).base;
    for (const f of left) taken.add(f);
    out.refused.push({
      files: left.filter((f) => SLIDE_FOLDER_FILE.test(splitPath(pathOf(f)).base)),
      error: folderName
        ? new SlideError('BAD_REQUEST', `${folderName}: a MIRAX slide folder without its .mrxs file — pick the folder that holds both ${folderName}.mrxs and the ${folderName} folder`)
        : new SlideError('BAD_REQUEST', 'Slidedat.ini: MIRAX slide files without their .mrxs file — pick the folder that holds the .mrxs file and its folder'),
    });
  }
  out.rest = files.filter((f) => !taken.has(f));
  return out;
}
