import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openGroups, type FileGrouper } from '../../src/workers/file-groups.ts';
import { groupMiraxFiles } from '../../src/workers/mirax-grouper.ts';
import { groupDicomInstances } from '../../src/engine/dicom/group.ts';
import { BlobSource } from '../../src/engine/io/web/blob-source.ts';
import { formats } from '../../src/engine/formats/registry.ts';

/**
 * The engine worker's grouping and opening of a pick (issue 12; engine-api's inspect over
 * file-groups.ts), run in Node (File and Blob are Node's): files carry their paths inside the
 * pick, multi-file slides are grouped (MIRAX by path, DICOM by content), a .mrxs without its
 * folder is one clear refusal, and a file of the folder that is no slide at all is skipped.
 */

/** The worker's DICOM grouper (wizard-ops.ts, which needs the DOM's OPFS types) in a few lines. */
const groupDicom: FileGrouper = async (files) => {
  const sources = files.map((f) => new BlobSource(f, f.name));
  const { slides } = await groupDicomInstances(sources);
  const groups = slides.map((g) => g.parts.map((p) => files[sources.indexOf(p as BlobSource)]!));
  const grouped = new Set(groups.flat());
  return { groups, rest: files.filter((f) => !grouped.has(f)) };
};
const groupers = [groupMiraxFiles, groupDicom];

const fixtures = join(import.meta.dirname, '../../../shared/fixtures');
const hasMirax = formats.some((f) => f.name === 'mirax');

async function input(fixture: string, path: string): Promise<{ file: File; path: string }> {
  return { file: new File([await readFile(join(fixtures, fixture))], path.split('/').pop()!), path };
}

/** engine-api's inspect, without the worker: groups opened, named by their paths in the pick. */
async function inspect(inputs: { file: File; path: string }[]) {
  const paths = new Map(inputs.map((i) => [i.file, i.path]));
  return (await openGroups(inputs.map((i) => i.file), paths, groupers)).map((g) => ({ ...g, paths: g.files.map((f) => paths.get(f)!) }));
}

test('folder pick: a DICOM slide in a sub-folder (stand-in for a multi-file slide), a lone .mrxs refused, a text file skipped', async () => {
  const r = await inspect([
    await input('openslide-python/boxes_0.dcm', 'Scans/boxes/boxes_0.dcm'),
    await input('openslide-python/boxes_1.dcm', 'Scans/boxes/boxes_1.dcm'),
    { file: new File(['notes'], 'notes.txt'), path: 'Scans/notes.txt' },
    { file: new File(['[GENERAL]'], 'ACC-9.mrxs'), path: 'Scans/ACC-9.mrxs' },
  ]);
  assert.equal(r.length, 2, r.map((x) => x.paths.join(',')).join('; '));
  const refused = r.find((x) => 'error' in x);
  assert.ok(refused && 'error' in refused);
  assert.deepEqual(refused.paths, ['Scans/ACC-9.mrxs']);
  assert.equal(refused.error.code, 'BAD_REQUEST');
  assert.match(refused.error.message, /pick the folder that holds ACC-9\.mrxs and its ACC-9 folder/);
  const dicom = r.find((x) => 'slide' in x);
  assert.ok(dicom && 'slide' in dicom);
  assert.equal(dicom.slide.format, 'dicom-wsi');
  assert.deepEqual(dicom.paths, ['Scans/boxes/boxes_0.dcm', 'Scans/boxes/boxes_1.dcm']);
});

test('files picked one by one (no folder in their paths): an unknown file is still reported, not skipped', async () => {
  const r = await inspect([{ file: new File(['notes'], 'notes.txt'), path: 'notes.txt' }]);
  assert.equal(r.length, 1);
  assert.ok('error' in r[0]! && r[0].error.code === 'NOT_RECOGNIZED');
});

test('the real MIRAX slide picked as its parent folder reaches the MIRAX driver as one slide, parts named inside the slide', { skip: hasMirax ? false : 'MIRAX driver not registered yet' }, async () => {
  const stem = 'Mirax2-Fluorescence-2';
  const inputs = [await input(`mirax/${stem}.mrxs`, `mirax/${stem}.mrxs`), await input('mirax/LICENSE', 'mirax/LICENSE')];
  for (const name of (await readdir(join(fixtures, 'mirax', stem))).sort()) inputs.push(await input(`mirax/${stem}/${name}`, `mirax/${stem}/${name}`));
  const r = await inspect(inputs);
  assert.equal(r.length, 1, 'one slide; LICENSE beside it skipped');
  const one = r[0]!;
  assert.equal(one.paths[0], `mirax/${stem}.mrxs`);
  assert.equal(one.paths.length, inputs.length - 1, 'every file of the slide folder');
  // The fixture lacks two Data files: the driver may refuse it, but as MIRAX, not as unrecognised.
  if ('slide' in one) {
    assert.equal(one.slide.format, 'mirax');
    assert.deepEqual(one.slide.parts.map((p) => p.name).slice(0, 3), [`${stem}.mrxs`, `${stem}/Slidedat.ini`, `${stem}/Index.dat`]);
  } else assert.notEqual(one.error.code, 'NOT_RECOGNIZED', one.error.message);
});
