import { concatBytes } from '../../shared/bytes.ts';
import type { ImageRole } from '../formats/slide-format.ts';
import type { OutputPlan, RedactionPlan, RedactionRequest } from '../redact/plan-types.ts';
import { throwIfAborted } from '../../shared/errors.ts';
import type { DicomDataset } from './dataset.ts';
import { stringValue } from './dataset.ts';
import type { DeidContext } from './deidentify.ts';
import { cleanDescriptors, deidentificationTexts, deidentifyDataset, MIN_SWEEP, recordDeidentification, removeKeptCarriers, sweepFileMeta, sweepList } from './deidentify.ts';
import type { DicomInstance, DicomSlide } from './dicom-slide.ts';
import { TS_DEFLATED_LE, TS_EXPLICIT_LE, TS_IMPLICIT_LE } from './part10.ts';
import { UidRemapper } from './uid-remap.ts';
import { encodeDataset, encodeFileMeta, encodePixelDataHeader, IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION } from './writer.ts';

/** Deterministic output names: 'level-0.dcm', 'thumbnail.dcm', … with the part index on a clash. */
function outputNames(kept: DicomInstance[]): Map<DicomInstance, string> {
  const base = (i: DicomInstance): string => (i.image.role === 'level' ? `level-${i.image.level ?? 0}` : i.image.role);
  const counts = new Map<string, number>();
  for (const i of kept) counts.set(base(i), (counts.get(base(i)) ?? 0) + 1);
  return new Map(kept.map((i) => [i, counts.get(base(i))! > 1 ? `${base(i)}-part${i.part}.dcm` : `${base(i)}.dcm`]));
}

/**
 * The plan of a DICOM slide: for each kept instance, a re-encoded header (file meta + de-identified
 * data set + Pixel Data element header) followed by the pixel data value copied byte for byte.
 * Anything after Pixel Data (digital signatures, padding) is not carried over: the copy ends at
 * the last byte of the Pixel Data element. Every instance, kept or dropped, goes through one
 * context so UIDs, dummies and the sweep list agree.
 */
export async function buildDicomPlan(slide: DicomSlide, request: RedactionRequest, signal?: AbortSignal): Promise<RedactionPlan> {
  const options = { retainDeviceIdentity: request.options?.retainDeviceIdentity, cleanDescriptors: request.options?.cleanDescriptors };
  const ctx: DeidContext = {
    selected: new Set(request.removeFields),
    options,
    remapper: new UidRemapper(request.options?.uidKey ?? UidRemapper.randomKeyHex()),
    removed: new Set(),
    sweep: new Map(),
    toClean: [],
    dummies: new Set(),
    generated: new WeakSet(),
  };
  const removeImages = new Set(request.removeImages);
  const results: { inst: DicomInstance; ds: DicomDataset }[] = [];
  for (const inst of slide.instances) {
    throwIfAborted(signal);
    results.push({ inst, ds: await deidentifyDataset(ctx, inst.header.dataset) });
    sweepFileMeta(ctx, inst.header.meta);
  }
  cleanDescriptors(ctx);

  const kept = results.filter((r) => !removeImages.has(r.inst.image.id));
  await removeKeptCarriers(ctx, kept.map((r) => r.ds));
  // What the plan itself writes — remapped UIDs, dummies, the de-identification record, the
  // implementation identity in the file meta — is its own: a sweep match wholly inside is chance.
  const ownTexts = [...(await ctx.remapper.generatedUids()), ...ctx.dummies, ...deidentificationTexts(options), IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION];
  const own = [...new Set(ownTexts)].filter((t) => t.length >= MIN_SWEEP).map((u) => new TextEncoder().encode(u));
  const names = outputNames(kept.map((r) => r.inst));
  const outputs: OutputPlan[] = [];
  for (const { inst, ds } of kept) {
    recordDeidentification(ds, options);
    const ts = inst.header.transferSyntax;
    // Native pixel data is the same bytes in any little-endian syntax, so implicit and deflated
    // inputs are written as explicit VR little endian; encapsulated syntaxes are kept as they are.
    const outTs = ts === TS_IMPLICIT_LE || ts === TS_DEFLATED_LE ? TS_EXPLICIT_LE : ts;
    const sopClass = stringValue(ds, '00080016') ?? inst.info.sopClassUid;
    const sopInstance = stringValue(ds, '00080018') ?? '';
    const { layout } = inst;
    const header = concatBytes([
      encodeFileMeta(sopClass, sopInstance, outTs),
      encodeDataset(ds),
      encodePixelDataHeader(inst.header.pixel.vr, layout.encapsulated ? 'undefined' : layout.valueLength),
    ]);
    const pixel = inst.header.inflated
      ? { kind: 'bytes' as const, bytes: await inst.header.pixelSource.read(layout.valueOffset, layout.valueLength, signal) }
      : { kind: 'copy' as const, part: inst.part, offset: layout.valueOffset, length: layout.valueLength };
    outputs.push({
      name: `${slide.name}/${names.get(inst)}`,
      size: header.length + layout.valueLength,
      segments: [{ kind: 'bytes', bytes: header }, pixel],
      patches: [],
      generated: occurrences(header, own),
    });
  }
  const removedImages: { id: string; role: ImageRole }[] = results.filter((r) => removeImages.has(r.inst.image.id)).map((r) => ({ id: r.inst.image.id, role: r.inst.image.role }));
  return {
    outputs,
    removedFields: slide.fields.map((f) => f.id).filter((id) => ctx.removed.has(id)),
    removedImages,
    sweepValues: sweepList(ctx),
  };
}

/** Where the given texts occur in `bytes` (the header), as output byte ranges. */
function occurrences(bytes: Uint8Array, texts: Uint8Array[]): { offset: number; length: number }[] {
  const out: { offset: number; length: number }[] = [];
  for (const t of texts) {
    if (t.length === 0) continue;
    outer: for (let i = 0; i + t.length <= bytes.length; i++) {
      for (let j = 0; j < t.length; j++) if (bytes[i + j] !== t[j]) continue outer;
      out.push({ offset: i, length: t.length });
    }
  }
  return out;
}
