import { readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { SlideCollector, SlideInput } from './collect.ts';

/**
 * MIRAX: each '<NAME>.mrxs' is one slide together with every file of the folder '<NAME>/' next to
 * it (Slidedat.ini, Index.dat, Data*.dat), read from disk, so naming the .mrxs alone is enough.
 * Folder files that came in with the arguments are claimed too (never reported as "skipped").
 * The output name is '<NAME>' ('<NAME>.mrxs' + '<NAME>/'); the engine refuses an incomplete folder.
 */
export const miraxCollector: SlideCollector = {
  name: 'mirax',
  async collect(files) {
    const slides: SlideInput[] = [];
    const claimed = new Set<string>();
    for (const f of files) {
      if (!f.toLowerCase().endsWith('.mrxs')) continue;
      const folder = f.slice(0, -'.mrxs'.length);
      const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
      const parts = entries.filter((e) => e.isFile()).map((e) => join(folder, e.name)).sort();
      for (const p of parts) claimed.add(resolve(p));
      claimed.add(resolve(f));
      slides.push({ name: basename(folder), kind: 'folder', files: [f, ...parts], identity: `mirax\0${resolve(f)}` });
    }
    return { slides, rest: files.filter((f) => !claimed.has(resolve(f))) };
  },
};

