import type { FieldSummary, ImageSummary } from '../../state/batch-store.ts';
import type { StagingEngine } from '../../../upload/batch-uploader.ts';
import type { BarcodeScan } from '../../../workers/engine-api-types.ts';

/** A file handed to the engine, with its path inside the selection (DICOM grouping uses it). */
export interface EngineInput {
  path: string;
  file: File;
}

/** One slide found by inspection, or one input that could not be read. */
export interface InspectOutcome {
  /** The inputs (by path) that make up this slide, in part order; for an error, the failing input(s). */
  paths: string[];
  slide?: {
    name: string;
    format: string;
    width: number;
    height: number;
    mpp?: { x: number; y: number; source?: string };
    fields: FieldSummary[];
    images: ImageSummary[];
    /** Parts are missing (MIRAX Data files): what cannot be read. */
    incomplete?: string;
  };
  error?: { code: string; message: string };
}

/**
 * What the wizard asks of the engine worker. One interface, so components do not depend on how
 * the worker API is shaped, and component tests can run against the real worker or a small fake.
 */
export interface WizardEngine extends StagingEngine {
  inspect(inputs: EngineInput[]): Promise<InspectOutcome[]>;
  /**
   * `slideId` lets the engine keep the slide open between calls.
   * A preview (PNG blob) of an image of the slide — the thumbnail by default, or a label or
   * overview by id — decoded off the main thread. null when the codec has no preview (JPEG 2000).
   */
  preview(slideId: string, files: File[], imageId: string | undefined, maxSize: number): Promise<Blob | null>;
  /** Zip a multi-file slide's staged outputs into one OPFS file (no Zip64: callers check the size). */
  zipStaged(paths: string[], names: string[], zipPath: string): Promise<{ size: number }>;
  /**
   * Barcodes on the slide's label (or macro) and in its vendor metadata, decoded in the worker
   * (C4 `barcodes(key)` on the slide opened for `slideId`). Optional: small test fakes skip it.
   */
  barcodes?(slideId: string, files: File[]): Promise<BarcodeScan>;
  /** Let go of every slide opened for this wizard (its user signed out or the batch is gone). */
  close?(): Promise<void>;
}
