/**
 * Build one fuzz case from a PRNG: 1–4 mutations, each chosen for the seed's format and applied
 * before the next is chosen (so a pointer move can follow a renumbering). The result is only the
 * list of ops: replaying them on the seed gives the same bytes.
 */
import { applyOps, type MutationOp } from './ops.ts';
import type { Prng } from './prng.ts';
import type { Seed } from './seeds.ts';
import type { Mutator } from './mutate-context.ts';
import { bitFlips, byteRun, deleteBytes, duplicateRange, insertBytes, truncate } from './mutate-generic.ts';
import {
  tiffDuplicateValue, tiffMoveValue, tiffNextPointer, tiffOverlapStrip, tiffRecount, tiffRenumberTag, tiffReoffset,
  tiffRetype, tiffRewriteAtEnd, tiffUnlinkIfd,
} from './mutate-tiff.ts';
import { miraxMutator, ndpiHighWord, pickMiraxPart, tiffText } from './mutate-vendor.ts';
import {
  dicomInsertElement, dicomMetaLength, dicomRelength, dicomRenumber, dicomRevr, dicomTrailing, dicomTruncateAtElement,
} from './mutate-dicom.ts';

const GENERIC: [Mutator, number][] = [[bitFlips, 5], [byteRun, 4], [truncate, 2], [insertBytes, 2], [deleteBytes, 2], [duplicateRange, 3]];
const TIFF: [Mutator, number][] = [
  [tiffRenumberTag, 6], [tiffRetype, 3], [tiffRecount, 3], [tiffReoffset, 4], [tiffUnlinkIfd, 5], [tiffNextPointer, 3],
  [tiffRewriteAtEnd, 5], [tiffMoveValue, 3], [tiffDuplicateValue, 3], [tiffOverlapStrip, 2], [tiffText, 6],
];
/** NDPI's high words exist only there (other TIFFs would only fall back to bit flips). */
const NDPI: [Mutator, number][] = [...TIFF, [ndpiHighWord, 5]];
const DICOM: [Mutator, number][] = [
  [dicomRenumber, 7], [dicomRevr, 3], [dicomRelength, 4], [dicomInsertElement, 6], [dicomTrailing, 3],
  [dicomTruncateAtElement, 2], [dicomMetaLength, 1],
];

/** The case's mutations, one group of ops per mutation (minimizing drops whole groups). */
export function generateCase(rng: Prng, seed: Seed): MutationOp[][] {
  let parts = seed.parts.map((p) => p.bytes);
  const n = rng.weighted([[1, 5], [2, 3], [3, 1], [4, 1]] as const);
  const groups: MutationOp[][] = [];
  for (let k = 0; k < n; k++) {
    const part = seed.kind === 'mirax' ? pickMiraxPart({ rng }, seed.parts.map((p) => p.name)) : rng.int(parts.length);
    const ctx = { rng, parts, part, identifying: seed.identifying };
    const structural = rng.chance(0.6);
    let mutator: Mutator;
    if (seed.kind === 'mirax') mutator = (structural && miraxMutator(seed.parts[part]!.name)) || rng.weighted(GENERIC);
    else mutator = rng.weighted(structural ? (seed.kind === 'dicom' ? DICOM : /ndpi/i.test(seed.name) ? NDPI : TIFF) : GENERIC);
    let chosen = mutator(ctx);
    // A structural mutator that finds nothing to work on (garbled by an earlier op) falls back,
    // and so does one whose ops cannot apply (a pointer read from garbage aims gigabytes away).
    if (chosen.length === 0) chosen = bitFlips(ctx);
    try {
      parts = applyOps(parts, chosen);
    } catch {
      chosen = bitFlips(ctx);
      parts = applyOps(parts, chosen);
    }
    groups.push(chosen);
  }
  return groups;
}

/** The mutator names a case used (each group's first `why` up to the colon), for the figures. */
export function mutatorsOf(groups: readonly (readonly MutationOp[])[]): string[] {
  return [...new Set(groups.filter((g) => g.length > 0).map((g) => (g[0]!.why ?? g[0]!.op).split(/[: ]/)[0]!))].sort();
}
