import { basename, dirname, resolve } from 'node:path';
import type { RejectedFile, SlideCollector, SlideInput } from './collect.ts';
import { NodeFileSource } from '../engine/io/node/file-source.ts';
import { hasDicmPrefix, readFileMeta } from '../engine/dicom/part10.ts';
import { groupDicomInstances } from '../engine/dicom/group.ts';
import { VL_WSI_SOP_CLASS } from '../engine/dicom/instance.ts';

/**
 * DICOM Part 10 files, grouped into slides by Study/Series/Container/Pyramid (headers only).
 * DICOM that is not a whole-slide image (annotations, segmentations) is rejected as "not a slide"
 * (skipped inside a directory); a broken instance is rejected as broken (always a failure: it may
 * be a lost level of a slide). Either way the slides beside them are processed.
 *
 * Output folder names come from the input directory only, never from the headers (Patient,
 * accession, study description are PHI): '<dir>' when the directory holds one slide, else
 * '<dir>-1', '<dir>-2', … in the order of the slides' first file names.
 */
export const dicomCollector: SlideCollector = {
  name: 'dicom',
  async collect(files) {
    const rest: string[] = [];
    const sources: NodeFileSource[] = [];
    for (const f of files) {
      // Named by full path: unique, so rejections map back to the file and grouping order is stable.
      const src = await NodeFileSource.open(f, f).catch(() => undefined);
      if (src && (await hasDicmPrefix(src).catch(() => false))) sources.push(src);
      else {
        rest.push(f);
        await src?.close();
      }
    }
    try {
      const grouping = await groupDicomInstances(sources);
      const groups = grouping.slides.map((g) => ({ key: g.key, files: g.parts.map((p) => (p as NodeFileSource).path) }));
      const dirOf = (g: { files: string[] }) => dirname(resolve(g.files[0]!));
      const slides: SlideInput[] = groups.map((g) => {
        const dir = dirOf(g);
        const siblings = groups.filter((o) => dirOf(o) === dir);
        const base = basename(dir) || 'slide';
        return {
          name: siblings.length > 1 ? `${base}-${siblings.indexOf(g) + 1}` : base,
          kind: 'folder',
          files: g.files,
          identity: `dicom\0${dir}\0${g.key}`,
        };
      });
      const rejected: RejectedFile[] = [];
      for (const r of grouping.rejected) {
        const src = sources.find((s) => s.name === r.name)!;
        const sopClass = await readFileMeta(src).then((m) => m.sopClassUid, () => undefined);
        rejected.push({ file: src.path, code: r.code, message: r.message, broken: !(sopClass && sopClass !== VL_WSI_SOP_CLASS) });
      }
      return { slides, rest, rejected };
    } finally {
      for (const s of sources) await s.close();
    }
  },
};
