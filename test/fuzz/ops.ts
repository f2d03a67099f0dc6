/**
 * The primitive byte edits a fuzz case is made of. Structure-aware mutators (TIFF entry rewrites,
 * DICOM element rewrites, pointer moves) are recorded as these primitives, so a recipe replays
 * exactly without depending on our own parsers, which may change; `why` keeps the intent readable.
 */
export type MutationOp =
  | { op: 'flip'; part?: number; at: number; bit: number; why?: string }
  | { op: 'set'; part?: number; at: number; hex: string; why?: string }
  | { op: 'insert'; part?: number; at: number; hex: string; why?: string }
  | { op: 'delete'; part?: number; at: number; len: number; why?: string }
  | { op: 'truncate'; part?: number; size: number; why?: string }
  | { op: 'copy'; part?: number; from: number; to: number; len: number; why?: string };

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** Apply one op to one part; returns a new array when the size changes, else edits a copy. */
export function applyOp(bytes: Uint8Array, op: MutationOp): Uint8Array {
  const n = bytes.length;
  const clamp = (x: number) => Math.max(0, Math.min(n, x));
  // A recipe may extend a file a little (appended values), never make a huge one by accident.
  const end = op.op === 'set' ? op.at + op.hex.length / 2 : op.op === 'copy' ? op.to + op.len : 0;
  if (end > n + (64 << 20)) throw new Error(`op ${op.op} writes ${end - n} bytes past the end`);
  switch (op.op) {
    case 'flip': {
      const out = bytes.slice();
      if (op.at >= 0 && op.at < n) out[op.at] = out[op.at]! ^ (1 << (op.bit & 7));
      return out;
    }
    case 'set': {
      // Writing past the end extends the file: a pointer may be aimed at appended bytes.
      const v = fromHex(op.hex);
      const out = new Uint8Array(Math.max(n, op.at + v.length));
      out.set(bytes);
      out.set(v, op.at);
      return out;
    }
    case 'insert': {
      const v = fromHex(op.hex);
      const at = clamp(op.at);
      const out = new Uint8Array(n + v.length);
      out.set(bytes.subarray(0, at));
      out.set(v, at);
      out.set(bytes.subarray(at), at + v.length);
      return out;
    }
    case 'delete': {
      const at = clamp(op.at);
      const end = clamp(op.at + op.len);
      const out = new Uint8Array(n - (end - at));
      out.set(bytes.subarray(0, at));
      out.set(bytes.subarray(end), at);
      return out;
    }
    case 'truncate':
      return bytes.slice(0, clamp(op.size));
    case 'copy': {
      const from = clamp(op.from);
      const src = bytes.slice(from, clamp(from + op.len));
      const out = new Uint8Array(Math.max(n, op.to + src.length));
      out.set(bytes);
      out.set(src, op.to);
      return out;
    }
  }
}

/** Apply a recipe's ops in order to the seed's parts (the seed arrays are not modified). */
export function applyOps(parts: readonly Uint8Array[], ops: readonly MutationOp[]): Uint8Array[] {
  const out = parts.slice();
  for (const op of ops) {
    const i = op.part ?? 0;
    if (i < 0 || i >= out.length) throw new Error(`op refers to part ${i} of ${out.length}`);
    out[i] = applyOp(out[i]!, op);
  }
  return out;
}
