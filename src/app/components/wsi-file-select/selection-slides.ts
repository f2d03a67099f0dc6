import type { SlideEntry, SourceRecord } from '../../state/batch-store.ts';
import type { EngineInput, WizardEngine } from '../wsi-bulk-import/wizard-engine.ts';
import { defaultRemovedFields, defaultRemovedImages, fileNameField } from '../wsi-bulk-import/decisions.ts';
import { leaveOutNonSlides, plainMessage, triage, ZIP_NEEDS_DIRECT } from './selection-rules.ts';

/** The batch's entries for one selection: its slides, its unreadable files, its zipped DICOM folders. */
export interface SelectionSlides {
  slides: SlideEntry[];
  /** Paths left out: not slides (folder picks only). */
  skipped: string[];
}

export async function slidesOfSelection(engine: WizardEngine, source: SourceRecord, inputs: EngineInput[], directUpload: boolean): Promise<SelectionSlides> {
  const folder = source.origin === 'directory' || !!source.folder;
  const t = triage(inputs, folder);
  const slides: SlideEntry[] = [];
  const base = (paths: string[], size: number) => ({
    id: crypto.randomUUID(), sourceId: source.id, parts: paths.map((path) => ({ sourceId: source.id, path, size })), size,
    fields: [], images: [], removeFields: [], removeImages: [],
  });
  for (const i of t.empty) {
    slides.push({ ...base([i.path], 0), name: i.path, error: { code: 'TRUNCATED', message: 'The file is empty (0 bytes)' } });
  }
  for (const i of t.zips) slides.push({ ...base([i.path], i.file.size), name: i.path, ...(await zipEntry(i, directUpload)) });

  const outcomes = t.inspect.length ? await engine.inspect(t.inspect) : [];
  const { outcomes: shown, skipped } = leaveOutNonSlides(t.inspect, outcomes, folder);
  const sizes = new Map(t.inspect.map((i) => [i.path, i.file.size]));
  for (const o of shown) {
    const parts = o.paths.map((path) => ({ sourceId: source.id, path, size: sizes.get(path) ?? 0 }));
    const size = parts.reduce((n, p) => n + p.size, 0);
    const common = { ...base([], size), parts };
    if (!o.slide) {
      const error = o.error ?? { code: 'INTERNAL', message: 'could not be read' };
      slides.push({ ...common, name: o.paths.join(', ') || source.label, error: { code: error.code, message: plainMessage(error.message, o.paths[0] ?? '') } });
      continue;
    }
    const { images } = o.slide;
    const fields = o.paths.length === 1 && o.slide.format !== 'dicom-wsi' ? [fileNameField(o.slide.name), ...o.slide.fields] : o.slide.fields;
    slides.push({
      ...common,
      name: o.slide.name,
      format: o.slide.format,
      width: o.slide.width,
      height: o.slide.height,
      mpp: o.slide.mpp,
      fields,
      images,
      removeFields: defaultRemovedFields(fields),
      removeImages: defaultRemovedImages(images),
      ...(o.slide.incomplete ? { incomplete: o.slide.incomplete } : {}),
    });
  }
  return { slides, skipped: [...t.skipped, ...skipped] };
}

/**
 * A zipped DICOM folder goes to the server as it is (the server unpacks it and finds the slides):
 * only with Direct Upload, since nothing inside a zip can be de-identified here.
 */
async function zipEntry(i: EngineInput, directUpload: boolean): Promise<Pick<SlideEntry, 'format' | 'zipped' | 'error'>> {
  const head = new Uint8Array(await i.file.slice(0, 4).arrayBuffer());
  // A zip starts with a local-file header, "PK\x03\x04".
  if (!(head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04)) {
    return { error: { code: 'NOT_RECOGNIZED', message: 'Not a zip file (the name ends in .zip, the content is something else)' } };
  }
  return { format: 'dicom-wsi', zipped: true, ...(directUpload ? {} : { error: zipNeedsDirect() }) };
}

export function zipNeedsDirect(): { code: string; message: string } {
  return { code: 'UNSUPPORTED', message: ZIP_NEEDS_DIRECT };
}
