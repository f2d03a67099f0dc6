import type { ByteSource } from '../io/byte-source.ts';
import type { RedactionPlan, RedactionRequest } from '../redact/plan-types.ts';
import type { Range } from '../redact/ranges.ts';
import type { SegmentScrubber } from '../codecs/segment-scrubber.ts';

/**
 * The driver interface, modelled on OpenSlide's vendor drivers: `detect` is cheap and never throws,
 * `open` parses what is needed for the metadata review (never pixel data). The registry tries drivers
 * in order, generic TIFF last.
 */
export interface SlideFormat {
  readonly name: FormatName;
  detect(ctx: DetectContext): Promise<DetectResult>;
  open(ctx: DetectContext, signal?: AbortSignal): Promise<Slide>;
}

export type FormatName =
  | 'aperio-svs'
  | 'hamamatsu-ndpi'
  | 'leica-scn'
  | 'ventana-bif'
  | 'philips-tiff'
  | 'ome-tiff'
  | 'mirax'
  | 'dicom-wsi'
  | 'generic-tiff';

/** What every detector shares: the parts of one slide and a lazily parsed view of the first. */
export interface DetectContext {
  /** One source for TIFF/SVS; one per instance for a DICOM slide. */
  parts: ByteSource[];
  /** Per-context cache so a TIFF is parsed once for all detectors (keyed by driver family). */
  cache: Map<string, unknown>;
}

export type DetectResult = { ok: true } | { ok: false; reason: string };

export type ImageRole = 'level' | 'thumbnail' | 'label' | 'overview';

export interface SlideImage {
  /** Stable id within the slide, e.g. 'ifd-3' or 'part-2'. */
  id: string;
  role: ImageRole;
  width: number;
  height: number;
  /** Pyramid level index for role 'level' (0 = full resolution). */
  level?: number;
  tileWidth?: number;
  tileHeight?: number;
  /** Human-readable compression name: 'JPEG', 'LZW', 'Deflate', 'JPEG 2000', 'None', … */
  compression: string;
  /** Which part (source) holds the image. */
  part: number;
}

export type FieldClass = 'phi' | 'critical' | 'neutral';

export interface MetadataField {
  /** Stable id, used in redaction requests: 'aperio:Filename', 'tiff:306', 'dicom:00100010', … */
  id: string;
  /** Label for the review table: 'Filename', 'DateTime (306)', 'Patient's Name (0010,0010)'. */
  label: string;
  /** Display value (may be PHI: never log it). Binary values are summarised. */
  value: string;
  class: FieldClass;
  /** Why this class, for the UI tooltip ("Aperio key listed as identifying", "private tag"). */
  reason?: string;
  /** Where it occurs, e.g. ['IFD 0', 'IFD 1'] — for information only. */
  locations?: string[];
}

export interface Mpp {
  x: number;
  y: number;
  source: string;
}

/** An encoded tile as stored, plus what a decoder needs to make it standalone. */
export interface EncodedTile {
  bytes: Uint8Array;
  /** MIME-like codec name: 'image/jpeg', 'image/jp2', 'tiff/lzw', 'tiff/deflate', 'dicom/rle', 'raw'. */
  codec: string;
  width: number;
  height: number;
  /** For raw/LZW/Deflate: samples per pixel, bits, predictor, photometric, planar. */
  layout?: { samplesPerPixel: number; bitsPerSample: number; predictor: number; photometric: number; planar: number };
}

export interface Slide {
  format: FormatName;
  /** Display name: the file name, or the DICOM series' folder / first instance name. */
  name: string;
  parts: ByteSource[];
  images: SlideImage[];
  fields: MetadataField[];
  mpp?: Mpp;
  /** Width/height of level 0. */
  width: number;
  height: number;
  /**
   * A tile of an image (any role) at (col,row) of that image's own grid; stripped images use one
   * strip per row and col 0. Throws SlideError UNSUPPORTED for codecs we cannot hand out.
   */
  readTile(imageId: string, col: number, row: number, signal?: AbortSignal): Promise<EncodedTile>;
  /** Build the edits that implement the request. Pure: reads only what open() already cached. */
  plan(request: RedactionRequest, signal?: AbortSignal): Promise<RedactionPlan>;
  /**
   * The output-alone check, for a slide opened FROM a de-identified output (no input, no plan):
   * every byte outside what this format's structure references is zero, no identifying field
   * remains but those in `keptFields`, no text segment inside kept codestreams. Problems in
   * words, never a metadata value; empty = verified. DICOM instances are checked one by one
   * (dicom/verify-output.ts) and do not implement it; every other driver must.
   */
  verifyAsOutput?(opts: OutputCheckOptions): Promise<string[]>;
  /**
   * Set when parts of a multi-file slide are missing (MIRAX Data files): what is missing, in words
   * naming files and levels (never a metadata value). plan() refuses such a slide unless the
   * request says `options.allowIncomplete` (the user agreed to de-identify what is there).
   */
  incomplete?: IncompleteSlide;
}

export interface IncompleteSlide {
  missingFiles: string[];
  /** Pyramid levels that cannot be read (0 = full resolution). */
  missingLevels: number[];
  message: string;
}

/** What an output may hold besides the allowlist: identifying fields the user chose to keep. */
export interface OutputCheckOptions {
  /** Field ids ('tiff:306', 'aperio:Date', 'dicom:00100010', …) the user explicitly kept. */
  keptFields?: ReadonlySet<string>;
  /** The format the input had: the output must re-open as the same one. */
  format?: FormatName;
  signal?: AbortSignal;
  /**
   * Defer the byte half of the check (scan-outside.ts: bytes outside the structure must be zero,
   * codestream text segments blank) to the caller, who runs it while it reads the part later — the
   * zero-copy upload checks each chunk before it leaves (redact/checked-reader.ts) instead of
   * reading the whole output once more before the first byte is sent. Default: scan now.
   */
  deferByteScan?: (part: ByteSource, outside: Range[], checker: SegmentScrubber) => void;
}
