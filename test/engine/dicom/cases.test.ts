/**
 * Data-driven DICOM cases (test/cases/dicom-*): open, check the slide model, de-identify with the
 * product pipeline (redactSlide: apply, verify, PHI sweep), then check the outputs with oracles we
 * did not write: dciodvfy (no new errors), dcmdump (identifying values gone, dummies present,
 * UIDs consistent and new), frame bytes identical, no removed value anywhere in the bytes.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openSlide } from '../../../src/engine/open.ts';
import { defaultRequest, redactSlide } from '../../../src/engine/redact/redact.ts';
import { NodeDirTarget, nodeSha256 } from '../../../src/engine/io/node/dir-target.ts';
import type { Slide, SlideImage } from '../../../src/engine/formats/slide-format.ts';
import type { ByteSource } from '../../../src/engine/io/byte-source.ts';
import type { RedactionPlan, RedactionRequest } from '../../../src/engine/redact/plan-types.ts';
import { cleanupGenerated, generateSeries, seriesFiles, type Scenario } from '../../fixtures/dicom/generate.ts';
import { patchDicom, type PatchKind } from '../../fixtures/dicom/patch.ts';
import { bufferIncludes, closeAll, dciodvfyErrors, dcmdump, openFiles, repoRoot, sharedFixtures } from './support.ts';

interface CaseSpec {
  title: string;
  input: { fixtures?: string[]; generate?: Scenario; file?: string; patch?: PatchKind };
  expect: {
    error?: string;
    message?: string;
    format?: string;
    levels?: [number, number][];
    roles?: Record<string, number>;
    mpp?: number;
    compression?: string;
    phiFields?: string[];
    phiValues?: string[];
    dummied?: string[];
    absentBytes?: string[];
  };
}

const KEY = '5f1d3c2b4a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0';
const casesDir = path.join(repoRoot, 'test/cases');
const work = mkdtempSync(path.join(tmpdir(), 'wsi-dicom-cases-'));
after(() => {
  rmSync(work, { recursive: true, force: true });
  cleanupGenerated();
});

function inputFiles(spec: CaseSpec, dir: string): string[] {
  let files: string[];
  if (spec.input.generate) {
    const gen = seriesFiles(generateSeries(spec.input.generate));
    files = spec.input.file ? gen.filter((f) => path.basename(f) === spec.input.file) : gen;
  } else {
    files = (spec.input.fixtures ?? []).map((f) => path.join(sharedFixtures, f));
  }
  if (!spec.input.patch) return files;
  return files.map((f) => {
    const out = path.join(dir, `patched-${path.basename(f)}`);
    writeFileSync(out, patchDicom(new Uint8Array(readFileSync(f)), spec.input.patch!));
    return out;
  });
}

function topLevel(dump: string, tag: string): string | undefined {
  const m = new RegExp(`^\\(${tag}\\) \\w\\w (?:\\[([^\\]]*)\\]|\\(no value available\\))`, 'm').exec(dump);
  return m ? (m[1] ?? '') : undefined;
}

function ordered(images: SlideImage[]): SlideImage[] {
  const rank = { level: 0, thumbnail: 1, overview: 2, label: 3 };
  return [...images].sort((a, b) => rank[a.role] - rank[b.role] || (a.level ?? 0) - (b.level ?? 0) || b.width - a.width);
}

/** dciodvfy cannot read deflated files: compare with DCMTK's explicit-VR conversion of the input. */
function baselineFile(file: string, dir: string): string {
  const dump = spawnSync('dcmdump', ['-M', file], { encoding: 'utf8' }).stdout;
  if (!/Deflated/.test(dump)) return file;
  const out = path.join(dir, `baseline-${path.basename(file)}`);
  spawnSync('dcmconv', ['+te', file, out]);
  return out;
}

async function assertFramesIdentical(before: Slide, removedImages: Set<string>, afterSlide: Slide): Promise<number> {
  const a = ordered(before.images.filter((i) => !removedImages.has(i.id)));
  const b = ordered(afterSlide.images);
  assert.equal(b.length, a.length, 'kept image count');
  let compared = 0;
  for (let k = 0; k < a.length; k++) {
    const cols = Math.ceil(a[k].width / (a[k].tileWidth ?? a[k].width));
    const rows = Math.ceil(a[k].height / (a[k].tileHeight ?? a[k].height));
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const x = await before.readTile(a[k].id, c, r);
        const y = await afterSlide.readTile(b[k].id, c, r);
        assert.ok(Buffer.from(x.bytes).equals(Buffer.from(y.bytes)), `frame ${c},${r} of ${a[k].role} ${a[k].width}x${a[k].height} differs`);
        compared++;
      }
    }
  }
  return compared;
}

/** New dciodvfy errors of each output, compared with the input instance it came from. */
function newConformanceErrors(plan: RedactionPlan, files: string[], outFiles: string[], dir: string): string[] {
  return plan.outputs.flatMap((o, i) => {
    const seg = o.segments[1];
    const before = new Set(dciodvfyErrors(baselineFile(files[seg.kind === 'copy' ? seg.part : 0], dir)));
    return dciodvfyErrors(outFiles[i])
      .filter((e) => !before.has(e))
      .map((e) => `${o.name}: ${e}`);
  });
}

/**
 * The wizard lets the user remove every field that is not 'critical' (auto redact plus any neutral
 * field): whatever is removed, the outputs must stay conformant VL WSI instances (no new dciodvfy
 * error), hold no removed value, keep the frames and every critical value, and change every
 * requested non-empty value (deleted, emptied, dummied or remapped).
 */
async function checkStrictRemoval(slide: Slide, parts: ByteSource[], files: string[], dir: string, ex: CaseSpec['expect']): Promise<void> {
  const defaults = defaultRequest(slide);
  const request: RedactionRequest = { removeFields: slide.fields.filter((f) => f.class !== 'critical').map((f) => f.id), removeImages: defaults.removeImages, options: { uidKey: KEY } };
  assert.ok(request.removeFields.length > defaults.removeFields.length, 'the strict request asks for more than auto redact');
  const outDir = path.join(dir, 'strict');
  const report = await redactSlide(slide, request, new NodeDirTarget(outDir), { hasher: nodeSha256 });
  assert.ok(report.verify.ok, report.verify.problems.join('; '));
  assert.equal(report.sweep.hits, 0);
  assert.ok(report.sweep.ok);
  const plan = await slide.plan(request);
  const outFiles = report.outputs.map((o) => path.join(outDir, o.name));
  assert.deepEqual(newConformanceErrors(plan, files, outFiles, dir), [], 'removing every non-critical field keeps the IOD conformant');
  for (const f of outFiles) {
    const dump = dcmdump(f);
    for (const v of ex.phiValues ?? []) assert.ok(!dump.includes(v), `dcmdump of ${path.basename(f)} still shows an identifying value`);
    const bytes = new Uint8Array(readFileSync(f));
    for (const n of plan.sweepValues) assert.ok(!bufferIncludes(bytes, n), `a removed value occurs in ${path.basename(f)}`);
  }
  const outParts = await openFiles(outFiles);
  try {
    const reopened = await openSlide(outParts);
    assert.ok((await assertFramesIdentical(slide, new Set(request.removeImages), reopened)) > 0);
    // Compare with the kept instances only (the dropped label/overview carry their own values).
    const kept = await openSlide(slide.images.filter((i) => !request.removeImages.includes(i.id)).map((i) => parts[i.part!]));
    const now = new Map(reopened.fields.map((f) => [f.id, f]));
    const removed = new Set(plan.removedFields);
    // A field inside a sequence that was emptied as a whole (a Type 2 sequence) goes with it.
    const insideRemoved = (id: string): boolean => id.split('/').some((_, k, steps) => k > 0 && removed.has(steps.slice(0, k).join('/')));
    for (const was of kept.fields) {
      if (was.class === 'critical') {
        if (!now.has(was.id)) assert.ok(insideRemoved(was.id), `critical ${was.id} kept`);
        // A kept value that holds removed text is itself dummied (removeKeptCarriers), and says so.
        else if (removed.has(was.id)) assert.notEqual(now.get(was.id)!.value, was.value, `critical ${was.id} reported changed`);
        else assert.equal(now.get(was.id)!.value, was.value, `critical ${was.id} kept as is`);
      } else if (was.value !== '' && !was.id.startsWith('dicom:0012')) {
        // 0012 group: the de-identification record, rewritten by every plan.
        assert.notEqual(now.get(was.id)?.value, was.value, `requested ${was.id} changed`);
      }
    }
  } finally {
    await closeAll(outParts);
  }
}

const caseDirs = readdirSync(casesDir).filter((d) => d.startsWith('dicom-')).sort();

describe('DICOM cases', () => {
  for (const dirName of caseDirs) {
    const spec = JSON.parse(readFileSync(path.join(casesDir, dirName, 'case.json'), 'utf8')) as CaseSpec;
    test(`${dirName}: ${spec.title}`, async () => {
      const dir = mkdtempSync(path.join(work, `${dirName}-`));
      const files = inputFiles(spec, dir);
      const parts = await openFiles(files);
      try {
        const ex = spec.expect;
        if (ex.error) {
          await assert.rejects(openSlide(parts), (e: { code?: string; message?: string }) => {
            assert.equal(e.code, ex.error, `code (message: ${e.message})`);
            assert.match(e.message ?? '', new RegExp(ex.message ?? ''));
            return true;
          });
          return;
        }
        const slide = await openSlide(parts);
        assert.equal(slide.format, ex.format);
        const levels = slide.images.filter((i) => i.role === 'level').sort((x, y) => (x.level ?? 0) - (y.level ?? 0));
        assert.deepEqual(levels.map((l) => [l.width, l.height]), ex.levels);
        const roles: Record<string, number> = {};
        for (const i of slide.images) roles[i.role] = (roles[i.role] ?? 0) + 1;
        assert.deepEqual(roles, ex.roles);
        if (ex.mpp !== undefined) {
          assert.ok(slide.mpp, 'mpp');
          assert.ok(Math.abs(slide.mpp.x - ex.mpp) < 1e-6 && Math.abs(slide.mpp.y - ex.mpp) < 1e-6, `mpp ${slide.mpp.x}`);
        }
        if (ex.compression) assert.equal(levels[0].compression, ex.compression);
        for (const id of ex.phiFields ?? []) {
          const f = slide.fields.find((x) => x.id === id);
          assert.ok(f, `field ${id} listed`);
          assert.equal(f.class, 'phi', `field ${id} class`);
        }
        for (const f of slide.fields) if (f.id === 'dicom:00080016' || f.id === 'dicom:00280030' || f.id.endsWith('/00280030')) assert.equal(f.class, 'critical', f.id);

        const request: RedactionRequest = { ...defaultRequest(slide), options: { uidKey: KEY } };
        const outDir = path.join(dir, 'out');
        const report = await redactSlide(slide, request, new NodeDirTarget(outDir), { hasher: nodeSha256 });
        assert.ok(report.verify.ok, report.verify.problems.join('; '));
        assert.ok(report.sweep.ok);
        const plan = await slide.plan(request);
        assert.equal(plan.outputs.length, slide.images.length - request.removeImages.length);
        const outFiles = report.outputs.map((o) => path.join(outDir, o.name));

        // Oracle 1: dciodvfy finds no error in an output that its input did not already have.
        assert.deepEqual(newConformanceErrors(plan, files, outFiles, dir), [], 'new dciodvfy errors');

        // Oracle 2: dcmdump — identifying values gone, de-identification recorded, UIDs new and shared.
        const inputDump = dcmdump(files[0]);
        const studies = new Set<string>();
        const series = new Set<string>();
        const frames = new Set<string>();
        for (const f of outFiles) {
          const dump = dcmdump(f);
          for (const v of ex.phiValues ?? []) assert.ok(!dump.includes(v), `dcmdump of ${path.basename(f)} still shows an identifying value`);
          assert.equal(topLevel(dump, '0012,0062'), 'YES');
          assert.match(dump, /\(0008,0100\) SH \[113100\]/);
          assert.equal(topLevel(dump, '0002,0003'), topLevel(dump, '0008,0018'), 'MediaStorageSOPInstanceUID == SOPInstanceUID');
          assert.equal(topLevel(dump, '0008,0016'), topLevel(inputDump, '0008,0016'), 'SOP class kept');
          studies.add(topLevel(dump, '0020,000d') ?? '');
          series.add(topLevel(dump, '0020,000e') ?? '');
          frames.add(topLevel(dump, '0020,0052') ?? 'none');
          assert.ok(!/^\(0009,/m.test(dump), 'private group removed');
          assert.ok(!/^\(fffa,fffa\)/m.test(dump), 'nothing after Pixel Data');
        }
        assert.equal(studies.size, 1, 'one StudyInstanceUID across outputs');
        assert.equal(series.size, 1, 'one SeriesInstanceUID across outputs');
        assert.equal(frames.size, 1, 'one FrameOfReferenceUID across outputs');
        assert.notEqual([...studies][0], topLevel(inputDump, '0020,000d'));
        assert.notEqual([...series][0], topLevel(inputDump, '0020,000e'));
        assert.match([...studies][0], /^2\.25\.\d+$/);

        // Oracle 3: frames byte-identical; dummies present (Type 1 kept) and different.
        const outParts = await openFiles(outFiles);
        try {
          const reopened = await openSlide(outParts);
          const compared = await assertFramesIdentical(slide, new Set(request.removeImages), reopened);
          assert.ok(compared > 0);
          for (const id of ex.dummied ?? []) {
            const was = slide.fields.find((f) => f.id === id)!;
            const now = reopened.fields.find((f) => f.id === id);
            assert.ok(now && now.value !== '' && now.value !== was.value, `${id} dummied`);
          }
        } finally {
          await closeAll(outParts);
        }

        // Oracle 4: no removed value (nor the case's known identifiers) anywhere in the output bytes.
        const needles = [...plan.sweepValues, ...[...(ex.phiValues ?? []), ...(ex.absentBytes ?? [])].map((s) => new TextEncoder().encode(s))];
        for (const f of outFiles) {
          const bytes = new Uint8Array(readFileSync(f));
          for (const n of needles) assert.ok(!bufferIncludes(bytes, n), `a removed value occurs in ${path.basename(f)}`);
        }
        for (const v of ex.phiValues ?? []) {
          assert.ok(plan.sweepValues.some((s) => Buffer.from(s).toString('latin1').includes(v) || v.includes(Buffer.from(s).toString('latin1'))), 'known identifier is in the sweep list');
        }

        // A retry with the same batch key gives the same bytes; another key gives other UIDs.
        const again = await slide.plan(request);
        assert.deepEqual(again.outputs.map((o) => o.segments[0]), plan.outputs.map((o) => o.segments[0]));
        const other = await slide.plan({ ...request, options: { uidKey: KEY.replace(/^5f/, 'a0') } });
        assert.notDeepEqual(other.outputs[0].segments[0], plan.outputs[0].segments[0]);
        copyFileSync(outFiles[0], path.join(dir, 'keep-for-debug.dcm'));

        await checkStrictRemoval(slide, parts, files, dir, ex);
      } finally {
        await closeAll(parts);
      }
    });
  }
});
