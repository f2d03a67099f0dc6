import type { FieldClass } from '../formats/slide-format.ts';
import type { TagPolicy } from './tag-policy.ts';
import type { Ifd, TiffEntry, TiffFile } from './tifflike.ts';

/**
 * What a TIFF-family vendor driver adds to the generic allowlist (tag-policy.ts). The generic
 * rules stay default-deny; a profile can only say more precisely what a vendor's own tags and
 * texts are. Aperio, NDPI, SCN, BIF, Philips and OME-TIFF each have one; generic TIFF has none.
 */
export interface TiffVendorProfile {
  /** Prefix of this vendor's structured-text field ids ('aperio', 'philips', 'scn', …). */
  readonly name: string;
  /**
   * The decision for a tag this vendor defines or uses differently (private tags such as NDPI's
   * 65420+, a vendor's use of XMP); undefined = the generic rule. Returning 'structural' keeps
   * the entry and its value whole in every kept directory (the value is then not reviewable):
   * only for numbers a reader needs, never for text.
   */
  tag?(e: TiffEntry, ifd: Ifd): TagPolicy | undefined;
  /** A name for a vendor tag in the review ("Slide reference"), instead of "Private tag 65427". */
  tagLabel?(tag: number): string | undefined;
  /**
   * Split a text entry (ImageDescription, XMP) into reviewable parts; undefined = a plain tag,
   * judged by tag()/the generic rule. Called for every entry of every main-chain IFD; return
   * undefined quickly for entries that are not this vendor's text.
   */
  structuredText?(tiff: TiffFile, ifd: Ifd, e: TiffEntry): StructuredText | undefined;
}

/** One reviewable piece of a structured text (an Aperio pair, a Philips attribute, an XML element). */
export interface TextPart {
  /** Field id, merged across IFDs: 'aperio:Date', 'philips:DICOM_PATIENT_NAME', 'scn:barcode'. */
  id: string;
  /** Label for the review table. */
  label: string;
  /** Display value (may be PHI: never log it). */
  value: string;
  class: FieldClass;
  reason: string;
  /** Bytes a sweep looks for when this part is removed (the value, its decoded forms, …). */
  sweep: Uint8Array[];
}

/**
 * A text value parsed into parts. What is not a part (an XML skeleton, Aperio's first header
 * line) is structure: always kept, so it must not be able to carry identifying text — a parser
 * that meets text it cannot classify makes that text a part (class 'phi'), or throws SlideError
 * UNSUPPORTED naming what it does not understand.
 */
export interface StructuredText {
  parts: TextPart[];
  /**
   * The text with only the parts for which keep(i) is true, as bytes WITHOUT a trailing NUL (the
   * planner adds one for ASCII tags). Never longer than the original value: the planner rewrites
   * it in place over the old extent and zero-fills the rest.
   */
  rebuild(keep: (partIndex: number) => boolean): Uint8Array;
}
