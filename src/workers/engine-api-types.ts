/**
 * Data types that cross the engine worker boundary, importable by the page (DOM project) without
 * pulling in engine code. The API's own type is `EngineApi` from engine-api.ts.
 */
import type { EncodedTile, MetadataField, Mpp, SlideImage } from '../engine/formats/slide-format.ts';
import type { RedactionReport, RedactionRequest } from '../engine/redact/plan-types.ts';
import type { SerializedSlideError } from '../shared/errors.ts';
import type { BarcodeScan, BarcodeSource, FoundBarcode } from '../engine/barcode/types.ts';

export type { EncodedTile, MetadataField, Mpp, SlideImage, RedactionReport, RedactionRequest };
export type { BarcodeScan, BarcodeSource, FoundBarcode };

/** One opened slide, kept open in the worker under `key`. */
export interface SlideSummary {
  key: string;
  name: string;
  format: string;
  /** Total bytes of the slide's files. */
  size: number;
  files: string[];
  width: number;
  height: number;
  mpp: Mpp | null;
  images: SlideImage[];
  fields: MetadataField[];
  /** Auto redact for this slide (every identifying field, label and overview). */
  defaultRequest: RedactionRequest;
  /** A multi-file slide with parts missing: what cannot be read (de-identified only if the user agrees). */
  incomplete?: string;
}

/** Per-slide inspection result: a batch never throws because one file is bad. */
export type InspectResult =
  | { ok: true; slide: SlideSummary }
  | { ok: false; name: string; files: string[]; error: SerializedSlideError };

/** Thumbnail pixels, transferred (no copy). */
export interface Thumbnail {
  bitmap: ImageBitmap;
  width: number;
  height: number;
}

export type ProgressCallback = (done: number, total: number) => void;

/** A slide's de-identified outputs opened as views for a zero-copy upload (upload-views.ts). */
export interface OpenedViews {
  viewSetId: string;
  outputs: { name: string; size: number }[];
  keptFields: string[];
  blankedSegments?: number;
  /** Identifying values every chunk is swept for (counted as redactSlide reports it). */
  valuesSearched?: number;
}
