import type { CodestreamList } from '../codecs/segment-scrubber.ts';
import type { ImageRole } from '../formats/slide-format.ts';

/** What the user decided for one slide. */
export interface RedactionRequest {
  /** Field ids to remove. Auto redact = every field of class 'phi'. */
  removeFields: string[];
  /** Image ids to remove (label/overview by default). */
  removeImages: string[];
  /** Driver-specific options, e.g. DICOM profile options and the batch UID key. */
  options?: RedactionOptions;
}

export interface RedactionOptions {
  /** DICOM: HMAC key (hex) for UID remapping, one per batch, so retries give the same UIDs. */
  uidKey?: string;
  /** DICOM PS3.15 options. */
  retainDeviceIdentity?: boolean;
  cleanDescriptors?: boolean;
  /** Multi-file slides (MIRAX): de-identify a slide whose `incomplete` parts are missing (the user agreed). */
  allowIncomplete?: boolean;
  /** Multi-file slides (MIRAX): the output's base name ('<name>.mrxs' + '<name>/…'); default: the input's. */
  outputName?: string;
}

/**
 * A redaction plan describes each output file as segments copied from a source part or given
 * as bytes, plus patches overlaid at output offsets. Applying it is one sequential pass.
 * For TIFF: one output = the whole source copied, with patches (zero-fills and rewritten values)
 * and appended bytes. For DICOM: per kept instance, a re-encoded header + the pixel data copied.
 */
export interface RedactionPlan {
  outputs: OutputPlan[];
  /** Fields removed, by id (for the report and verification). */
  removedFields: string[];
  /** Images removed, by id and role. */
  removedImages: { id: string; role: ImageRole }[];
  /**
   * Values that must not occur anywhere in the outputs (the PHI sweep). Kept in memory only;
   * never logged, never sent. Very short values (< 4 bytes) are not swept (they occur by chance).
   */
  sweepValues: Uint8Array[];
  /**
   * More values to search exactly as given (each in every encoding, but not split into pieces):
   * text the plan found orphaned in the input, already cut into the pieces worth searching.
   */
  sweepExact?: Uint8Array[];
}

export interface OutputPlan {
  /** Output file name (base name kept for TIFF; e.g. '<slide>/<n>.dcm' for DICOM). */
  name: string;
  size: number;
  segments: Segment[];
  /** Overwrites at output offsets; may span segment boundaries; must lie inside [0,size). */
  patches: Patch[];
  /**
   * Bytes of this output the plan generated (remapped DICOM UIDs): a PHI sweep match wholly
   * inside one is chance, not a leak (see PhiSweeper).
   */
  generated?: { offset: number; length: number }[];
  /**
   * JPEG / JPEG 2000 codestreams inside this output (output offsets): their text-bearing marker
   * segments are blanked as the output streams by (see codecs/segment-scrubber.ts).
   */
  codestreams?: CodestreamList;
}

export type Segment =
  | { kind: 'copy'; part: number; offset: number; length: number }
  | { kind: 'bytes'; bytes: Uint8Array };

export type Patch =
  | { offset: number; bytes: Uint8Array }
  | { offset: number; fill: number; length: number };

/** What a redaction produced, per output, returned to the UI and the CLI and stored for the upload. */
export interface RedactionReport {
  slideName: string;
  format: string;
  outputs: { name: string; size: number; sha256: string }[];
  removedFields: string[];
  removedImages: { id: string; role: ImageRole }[];
  /**
   * Identifying fields the user chose to keep (ids only): the output-alone verification on the
   * server tolerates exactly these besides the allowlist (sent with the upload as `keptFields`).
   */
  keptFields: string[];
  /** Text-bearing segments blanked inside JPEG streams (COM, APPn not needed to decode). */
  blankedSegments: number;
  verify: { ok: boolean; problems: string[] };
  /** PHI sweep: how many values searched, and how many found (must be 0). Never the values. */
  sweep: { valuesSearched: number; hits: number; ok: boolean };
}
