/**
 * `node --import tsx test/fuzz/show.ts RECIPE.json [--dir DIR]`: remake a recipe's input in DIR
 * (input/<part>), Auto redact it into DIR/output in this process, and print the outcome, so a
 * failure can be examined with tiffinfo/dcmdump. Prints string indexes, never values.
 */
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { openSlide } from '../../src/engine/open.ts';
import { NodeFileSource } from '../../src/engine/io/node/file-source.ts';
import { NodeDirTarget, nodeSha256 } from '../../src/engine/io/node/dir-target.ts';
import { defaultRequest, redactSlide } from '../../src/engine/redact/redact.ts';
import { applyOps } from './ops.ts';
import type { Recipe } from './recipe.ts';
import { classifyError } from './run-case.ts';
import { findLeaks } from './leak.ts';
import { loadSeeds, needles } from './seeds.ts';
import { readdir } from 'node:fs/promises';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { dir: { type: 'string' } } });
const recipe = JSON.parse(await readFile(positionals[0]!, 'utf8')) as Recipe;
const [seed] = await loadSeeds((n) => n === recipe.seed);
if (!seed) throw new Error(`unknown seed ${recipe.seed}`);
if (seed.sha256 !== recipe.sha256) throw new Error(`seed ${seed.name} changed since the recipe was made`);
const dir = values.dir ?? (await mkdtemp(join(tmpdir(), 'wsi-fuzz-show-')));
const inDir = join(dir, 'input');
const outDir = join(dir, 'output');
await mkdir(inDir, { recursive: true });
const parts = applyOps(seed.parts.map((p) => p.bytes), recipe.mutations.flat());
const sources: NodeFileSource[] = [];
for (const [i, b] of parts.entries()) {
  const path = join(inDir, seed.parts[i]!.name);
  await mkdir(dirname(path), { recursive: true }); // MIRAX parts sit in their folder
  await writeFile(path, b);
  sources.push(await NodeFileSource.open(path));
}
const list = needles(seed);
try {
  const slide = await openSlide(sources);
  const request = { ...defaultRequest(slide), options: { allowIncomplete: true } }; // as run-case.ts
  process.stdout.write(`opened ${slide.format}; removing ${request.removeFields.length} fields, ${request.removeImages.length} images\n`);
  await redactSlide(slide, request, new NodeDirTarget(outDir), { hasher: nodeSha256 });
  const inputs = parts.map((b) => Buffer.from(b));
  for (const f of (await readdir(outDir, { recursive: true, withFileTypes: true })).filter((d) => d.isFile())) {
    const path = join(f.parentPath, f.name);
    for (const h of findLeaks(path, await readFile(path), list, inputs)) process.stdout.write(`LEAK string #${h.index} (${h.encoding}) in ${path} @${h.offset}\n`);
  }
} catch (e) {
  process.stdout.write(`${JSON.stringify(classifyError(e, seed.parts.map((p) => p.name), list))}\n`);
} finally {
  for (const s of sources) await s.close();
}
process.stdout.write(`input and output in ${dir}\n`);
