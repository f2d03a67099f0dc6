/** The parts of the @cornerstonejs/codec-* decoder APIs we use (the packages ship no typings). */

export interface J2KDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8ClampedArray;
  decode(): void;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned: boolean };
  /** OpenJPEG's colour space after decoding: 1 = sRGB (also after its own sYCC conversion). */
  getColorSpace(): number;
  delete(): void;
}
export interface OpenJpegModule {
  J2KDecoder: new () => J2KDecoder;
}

export interface JpegLSDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8ClampedArray;
  decode(): void;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number };
  /** 0 = none (planes one after the other), 1 = line, 2 = sample (both come out pixel-interleaved). */
  getInterleaveMode(): number;
  delete(): void;
}
export interface CharlsModule {
  JpegLSDecoder: new () => JpegLSDecoder;
}
