import type { ByteSource } from '../io/byte-source.ts';
import type { ErrorCode } from '../../shared/errors.ts';
import { throwIfAborted, toSlideError } from '../../shared/errors.ts';
import { notWsiError, VL_WSI_SOP_CLASS, wsiInstanceInfo } from './instance.ts';
import { readFileMeta, readPart10Header } from './part10.ts';

export interface DicomSlideGroup {
  /** Study | Series | Container | Pyramid of the group (UIDs: keep out of logs and UI). */
  key: string;
  parts: ByteSource[];
}

export interface RejectedFile {
  name: string;
  code: ErrorCode;
  message: string;
}

export interface DicomGrouping {
  slides: DicomSlideGroup[];
  /** Files that are not DICOM, not whole-slide images, or unreadable: reported, not fatal. */
  rejected: RejectedFile[];
}

/**
 * Group the instances of a directory into slides, reading headers only (never pixel data).
 * A slide is one Study + Series + Container + Pyramid; instances without a PyramidUID (labels and
 * overviews usually have none) join the single pyramid of their series/container when there is
 * exactly one, so a slide keeps its associated images.
 */
export async function groupDicomInstances(sources: ByteSource[], signal?: AbortSignal): Promise<DicomGrouping> {
  const rejected: RejectedFile[] = [];
  const entries: { source: ByteSource; base: string; pyramid: string }[] = [];
  for (const source of [...sources].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    throwIfAborted(signal);
    try {
      const meta = await readFileMeta(source, signal);
      if (meta.sopClassUid && meta.sopClassUid !== VL_WSI_SOP_CLASS) {
        const err = notWsiError(source.name, meta.sopClassUid);
        rejected.push({ name: source.name, code: err.code, message: err.message });
        continue;
      }
      const info = wsiInstanceInfo(await readPart10Header(source, signal, meta));
      entries.push({ source, base: `${info.studyUid}|${info.seriesUid}|${info.containerId ?? ''}`, pyramid: info.pyramidUid ?? '' });
    } catch (e) {
      const err = toSlideError(e, source.name);
      if (err.code === 'ABORTED') throw err;
      rejected.push({ name: source.name, code: err.code, message: err.message });
    }
  }
  const groups = new Map<string, ByteSource[]>();
  const pyramidsOf = new Map<string, Set<string>>();
  for (const e of entries) {
    if (!e.pyramid) continue;
    if (!pyramidsOf.has(e.base)) pyramidsOf.set(e.base, new Set());
    pyramidsOf.get(e.base)!.add(e.pyramid);
  }
  for (const e of entries) {
    let pyramid = e.pyramid;
    const known = pyramidsOf.get(e.base);
    if (!pyramid && known?.size === 1) pyramid = [...known][0];
    const key = `${e.base}|${pyramid}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(e.source);
  }
  return { slides: [...groups].map(([key, parts]) => ({ key, parts })), rejected };
}
