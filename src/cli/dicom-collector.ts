import { basename, dirname } from 'node:path';
import type { SlideCollector, SlideInput } from './collect.ts';
import { NodeFileSource } from '../engine/io/node/file-source.ts';
import { hasDicmPrefix } from '../engine/dicom/part10.ts';
import { groupDicomInstances } from '../engine/dicom/group.ts';

/**
 * DICOM Part 10 files, grouped into slides by Study/Series/Container/Pyramid (headers only).
 * Files that are DICOM but not whole-slide images (annotations, segmentations) or unreadable stay
 * unclaimed: named explicitly they fail with "not recognised", inside a directory they are skipped;
 * either way the slide they sit beside is processed.
 */
export const dicomCollector: SlideCollector = {
  name: 'dicom',
  async collect(files) {
    const rest: string[] = [];
    const sources: NodeFileSource[] = [];
    for (const f of files) {
      const src = await NodeFileSource.open(f).catch(() => undefined);
      if (src && (await hasDicmPrefix(src).catch(() => false))) sources.push(src);
      else {
        rest.push(f);
        await src?.close();
      }
    }
    try {
      const grouping = await groupDicomInstances(sources);
      const pathOf = new Map(sources.map((s) => [s as unknown, s.path]));
      const claimed = new Set<string>();
      const slides: SlideInput[] = grouping.slides.map((g, i, all) => {
        const files = g.parts.map((p) => pathOf.get(p)!);
        files.forEach((f) => claimed.add(f));
        const dir = basename(dirname(files[0]));
        const sameDir = all.filter((o) => basename(dirname(pathOf.get(o.parts[0])!)) === dir).length;
        return { name: sameDir > 1 ? `${dir}-${i + 1}` : dir, files };
      });
      for (const s of sources) if (!claimed.has(s.path)) rest.push(s.path);
      return { slides, rest };
    } finally {
      for (const s of sources) await s.close();
    }
  },
};
