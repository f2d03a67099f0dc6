import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupMiraxFiles } from '../../src/workers/mirax-grouper.ts';
import { partPaths } from '../../src/shared/upload-name.ts';

/**
 * MIRAX selection (issue 12): a folder pick becomes one slide per .mrxs with its folder, named by
 * the parts' paths inside the slide; the .mrxs alone, or a folder alone, is one clear refusal;
 * other files in a slide's folder are skipped. And the names each part is uploaded under.
 */

function pick(paths: string[]): { files: File[]; map: Map<File, string> } {
  const files = paths.map((p) => new File([p], p.split('/').pop()!));
  return { files, map: new Map(files.map((f, i) => [f, paths[i]!])) };
}

const slideFolder = (root: string, stem: string) => [
  `${root}${stem}.mrxs`,
  `${root}${stem}/Data0010.dat`,
  `${root}${stem}/Data0002.dat`,
  `${root}${stem}/Index.dat`,
  `${root}${stem}/Slidedat.ini`,
];

test('a picked folder holding X.mrxs and X/ is one slide; parts named inside the slide, .mrxs first, then Slidedat.ini, Index.dat, Data in number order', async () => {
  const { files, map } = pick([...slideFolder('Scans/', 'ACC 123'), 'Scans/ACC 123/Thumbs.db', 'Scans/notes.txt']);
  const r = await groupMiraxFiles(files, map);
  assert.equal(r.groups.length, 1);
  assert.deepEqual(r.names[0], ['ACC 123.mrxs', 'ACC 123/Slidedat.ini', 'ACC 123/Index.dat', 'ACC 123/Data0002.dat', 'ACC 123/Data0010.dat']);
  assert.deepEqual(r.groups[0]!.map((f) => map.get(f)), ['Scans/ACC 123.mrxs', 'Scans/ACC 123/Slidedat.ini', 'Scans/ACC 123/Index.dat', 'Scans/ACC 123/Data0002.dat', 'Scans/ACC 123/Data0010.dat']);
  assert.deepEqual(r.refused, []);
  // Thumbs.db inside the slide's folder is skipped; notes.txt goes on to the other drivers.
  assert.deepEqual(r.rest.map((f) => map.get(f)), ['Scans/notes.txt']);
});

test('a parent folder of several MIRAX slides: one slide per .mrxs, each with its own Slidedat.ini; other files left to the other drivers', async () => {
  const { files, map } = pick([...slideFolder('P/', 'A'), ...slideFolder('P/', 'B'), ...slideFolder('P/sub/', 'A'), 'P/x.svs']);
  const r = await groupMiraxFiles(files, map);
  assert.equal(r.groups.length, 3);
  const byRoot = r.groups.map((g) => map.get(g[0]!));
  assert.deepEqual(byRoot, ['P/A.mrxs', 'P/B.mrxs', 'P/sub/A.mrxs']);
  for (const g of r.groups) {
    const root = map.get(g[0]!)!.replace(/\.mrxs$/, '/');
    assert.ok(g.slice(1).every((f) => map.get(f)!.startsWith(root)), 'every part from its own folder');
  }
  assert.deepEqual(r.rest.map((f) => map.get(f)), ['P/x.svs']);
});

test('the folder may differ in case from the .mrxs name (Windows, macOS); the name inside the slide follows the .mrxs', async () => {
  const { files, map } = pick(['d/Slide.MRXS', 'd/SLIDE/Slidedat.ini', 'd/SLIDE/Index.dat', 'd/SLIDE/Data0000.dat']);
  const r = await groupMiraxFiles(files, map);
  assert.deepEqual(r.names[0], ['Slide.MRXS', 'Slide/Slidedat.ini', 'Slide/Index.dat', 'Slide/Data0000.dat']);
});

test('the .mrxs alone: one refusal telling the user to pick the folder that holds it and its folder', async () => {
  const { files, map } = pick(['X.mrxs', 'y.svs']);
  const r = await groupMiraxFiles(files, map);
  assert.equal(r.groups.length, 0);
  assert.equal(r.refused.length, 1);
  assert.equal(r.refused[0]!.error.code, 'BAD_REQUEST');
  assert.match(r.refused[0]!.error.message, /^X\.mrxs: .*pick the folder that holds X\.mrxs and its X folder/);
  assert.deepEqual(r.rest.map((f) => map.get(f)), ['y.svs']);
});

test('the .mrxs and its folder\'s files picked flat (no folder): one refusal for all of them, not a row per file', async () => {
  const { files, map } = pick(['X.mrxs', 'Slidedat.ini', 'Index.dat', 'Data0000.dat']);
  const r = await groupMiraxFiles(files, map);
  assert.equal(r.refused.length, 1);
  assert.equal(r.refused[0]!.files.length, 4);
  assert.deepEqual(r.rest, []);
});

test('a slide folder without its .mrxs (the folder itself was picked): one refusal naming the folder', async () => {
  const { files, map } = pick(['X/Slidedat.ini', 'X/Index.dat', 'X/Data0000.dat', 'X/desktop.ini']);
  const r = await groupMiraxFiles(files, map);
  assert.equal(r.groups.length, 0);
  assert.equal(r.refused.length, 1);
  assert.match(r.refused[0]!.error.message, /^X: a MIRAX slide folder without its \.mrxs file — pick the folder that holds both X\.mrxs and the X folder/);
  assert.equal(r.refused[0]!.files.length, 3);
  assert.deepEqual(r.rest, [], 'desktop.ini skipped with its folder');
});

test('no paths given (files picked one by one): names are file names, nothing else is grouped', async () => {
  const files = [new File(['a'], 'a.svs'), new File(['b'], 'b.dcm')];
  const r = await groupMiraxFiles(files);
  assert.deepEqual(r.groups, []);
  assert.deepEqual(r.rest, files);
});

test('upload paths: de-identified MIRAX outputs go under a neutral slide name; Direct Upload keeps the picked names below the .mrxs folder; DICOM and single files send none', () => {
  const slide = { id: '1a2b3c4d-0000-4000-8000-000000000000', format: 'mirax' };
  assert.deepEqual(partPaths(slide, ['ACC 123.mrxs', 'ACC 123/Slidedat.ini', 'ACC 123/Index.dat', 'ACC 123/Data0000.dat'], true), [
    'slide-1a2b3c4d.mrxs', 'slide-1a2b3c4d/Slidedat.ini', 'slide-1a2b3c4d/Index.dat', 'slide-1a2b3c4d/Data0000.dat',
  ]);
  // The engine may already have named its outputs neutrally: renamed the same way all the same.
  assert.deepEqual(partPaths(slide, ['slide.mrxs', 'slide/Slidedat.ini'], true), ['slide-1a2b3c4d.mrxs', 'slide-1a2b3c4d/Slidedat.ini']);
  assert.deepEqual(partPaths(slide, ['Scans/ACC 123.mrxs', 'Scans/ACC 123/Slidedat.ini', 'Scans/ACC 123/Data0000.dat'], false), ['ACC 123.mrxs', 'ACC 123/Slidedat.ini', 'ACC 123/Data0000.dat']);
  assert.deepEqual(partPaths({ ...slide, format: 'dicom-wsi' }, ['S/level-0.dcm', 'S/level-1.dcm'], true), [undefined, undefined]);
  assert.deepEqual(partPaths({ ...slide, format: 'aperio-svs' }, ['ACC 123.svs'], true), [undefined]);
});
