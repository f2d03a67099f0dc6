// Typings for the decode-only Emscripten builds of @cornerstonejs/codec-openjpeg and -charls
// (the packages ship none). Only what src/engine/codecs uses is declared.

declare module '@cornerstonejs/codec-openjpeg/decodewasmjs' {
  export interface J2KFrameInfo { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned: boolean }
  export interface J2KDecoder {
    getEncodedBuffer(length: number): Uint8Array;
    getDecodedBuffer(): Uint8ClampedArray;
    decode(): void;
    getFrameInfo(): J2KFrameInfo;
    /** OpenJPEG's colour space after decoding: 1 = sRGB (also after its own sYCC conversion). */
    getColorSpace(): number;
    delete(): void;
  }
  export interface OpenJpegModule { J2KDecoder: new () => J2KDecoder }
  export default function factory(options?: { locateFile?: (path: string, prefix: string) => string; print?: (text: string) => void; printErr?: (text: string) => void }): Promise<OpenJpegModule>;
}

declare module '@cornerstonejs/codec-charls/decodewasmjs' {
  export interface JlsFrameInfo { width: number; height: number; bitsPerSample: number; componentCount: number }
  export interface JpegLSDecoder {
    getEncodedBuffer(length: number): Uint8Array;
    getDecodedBuffer(): Uint8ClampedArray;
    decode(): void;
    getFrameInfo(): JlsFrameInfo;
    /** 0 = none (planes one after the other), 1 = line, 2 = sample (both come out pixel-interleaved). */
    getInterleaveMode(): number;
    delete(): void;
  }
  export interface CharlsModule { JpegLSDecoder: new () => JpegLSDecoder; getExceptionMessage?(ptr: number): string }
  export default function factory(options?: { locateFile?: (path: string, prefix: string) => string; print?: (text: string) => void; printErr?: (text: string) => void }): Promise<CharlsModule>;
}
