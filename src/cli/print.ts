import type { RedactionReport } from '../engine/redact/plan-types.ts';
import type { Result, Skipped, SlideSummary, VerifyResult } from './commands.ts';

type Out = (s: string) => void;

function failed(r: Result<unknown>, out: Out): boolean {
  if (r.ok) return false;
  out(`✗ ${r.input}\n  ${r.error.code}: ${r.error.message}\n`);
  return true;
}

/** Human-readable review: images and metadata with their class. Values are shown to the user here (never logged). */
export function printInspect(results: Result<SlideSummary>[], out: Out): void {
  for (const r of results) {
    if (failed(r, out)) continue;
    if (!r.ok) continue;
    const s = r.value;
    out(`${s.name}  [${s.format}]  ${s.width}x${s.height}  MPP ${s.mpp ? `${s.mpp.x.toPrecision(4)} x ${s.mpp.y.toPrecision(4)} (${s.mpp.source})` : 'unknown'}\n`);
    out('  images:\n');
    for (const i of s.images) {
      out(`    ${i.id.padEnd(8)} ${i.role.padEnd(10)} ${`${i.width}x${i.height}`.padEnd(12)} ${i.compression}${i.tileWidth ? `, tiles ${i.tileWidth}x${i.tileHeight}` : ''}\n`);
    }
    out('  metadata:\n');
    for (const f of s.fields) {
      const mark = f.class === 'phi' ? 'REMOVE' : f.class === 'critical' ? 'keep!' : 'keep';
      out(`    ${mark.padEnd(7)} ${f.id.padEnd(34)} ${f.value.length > 60 ? `${f.value.slice(0, 57)}...` : f.value}\n`);
    }
  }
}

export function printRedact(results: Result<RedactionReport>[], out: Out): void {
  for (const r of results) {
    if (failed(r, out)) continue;
    if (!r.ok) continue;
    const v = r.value;
    for (const o of v.outputs) out(`✓ ${r.input} -> ${o.name}  ${o.size} bytes  sha256 ${o.sha256}\n`);
    out(`  removed ${v.removedFields.length} field(s) [${v.removedFields.join(', ')}], ${v.removedImages.length} image(s) [${v.removedImages.map((i) => i.role).join(', ')}]${v.blankedSegments > 0 ? `, ${v.blankedSegments} text segment(s) in image data blanked` : ''}; verified; PHI sweep: ${v.sweep.valuesSearched} value(s), 0 found\n`);
  }
}

export function printVerify(results: Result<VerifyResult>[], out: Out): void {
  for (const r of results) {
    if (failed(r, out)) continue;
    if (!r.ok) continue;
    const v = r.value;
    if (v.clean) out(`✓ ${r.input}: no identifying metadata, no label or macro\n`);
    else {
      out(`✗ ${r.input}: still identifying\n`);
      for (const f of v.identifyingFields) out(`    field ${f.id}  ${f.label}\n`);
      for (const i of v.associatedImages) out(`    image ${i.id} (${i.role})\n`);
      for (const p of v.problems) out(`    ${p}\n`);
    }
  }
}

/** Files inside the given directories that are not slides: listed so nothing is dropped unseen. */
export function printSkipped(skipped: Skipped[], out: Out): void {
  for (const s of skipped) out(`- skipped ${s.file}: ${s.reason}\n`);
}
