/**
 * Random-access input. Offsets and lengths are plain numbers (exact to 2^53): never use 32-bit
 * bitwise operators on them. `read` may return fewer bytes only at end of file.
 */
export interface ByteSource {
  readonly size: number;
  /** A name for messages (file name, never a full local path). */
  readonly name: string;
  read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array>;
  /**
   * true: every read() returns fresh memory the caller owns (it may change or transfer it), so a
   * long pass need not copy a chunk before patching it (BlobSource: each read is a new buffer).
   */
  readonly freshReads?: boolean;
  /**
   * Optional: read into the caller's memory (`buffer`, at least `length` bytes), for long
   * sequential passes that would otherwise allocate and zero a fresh buffer per read. Returns the
   * filled view of `buffer`; fewer bytes only at end of file.
   */
  readInto?(offset: number, length: number, buffer: ArrayBuffer, signal?: AbortSignal): Promise<Uint8Array>;
}

/** Sequential-or-random output. `write` must write every byte or throw. */
export interface ByteSink {
  write(offset: number, bytes: Uint8Array): Promise<void>;
  truncate(size: number): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
}
