import type { Slide, SlideImage } from '../formats/slide-format.ts';
import type { RedactionPlan } from './plan-types.ts';

/**
 * Check a re-opened output against the input and the plan. Returns problems in words (never a
 * metadata value); empty means the plan held:
 *  - same driver; every kept image present with the same role, size, tiling and compression;
 *  - removed images gone; MPP unchanged;
 *  - every removed field absent, or present with a different value (DICOM dummies, emptied values).
 */
export function verifyRedaction(before: Slide, plan: RedactionPlan, after: Slide): string[] {
  const problems: string[] = [];
  if (after.format !== before.format) problems.push(`output opens as ${after.format}, input was ${before.format}`);
  const removed = new Set(plan.removedImages.map((i) => i.id));
  const expected = before.images.filter((i) => !removed.has(i.id)).map(imageKey).sort();
  const actual = after.images.map(imageKey).sort();
  if (expected.join('\n') !== actual.join('\n')) {
    const missing = expected.filter((k) => !actual.includes(k));
    const extra = actual.filter((k) => !expected.includes(k));
    problems.push(`images differ: missing [${missing.join('; ')}], unexpected [${extra.join('; ')}]`);
  }
  if (after.width !== before.width || after.height !== before.height) problems.push('full-resolution size changed');
  if (!sameMpp(before, after)) problems.push('pixel size (MPP) changed');
  for (const id of plan.removedFields) {
    const was = before.fields.find((f) => f.id === id);
    const now = after.fields.find((f) => f.id === id);
    if (was && now && now.value !== '' && now.value === was.value) problems.push(`field "${was.label}" is still present`);
  }
  return problems;
}

function imageKey(i: SlideImage): string {
  return `${i.role} ${i.width}x${i.height} tile ${i.tileWidth ?? '-'}x${i.tileHeight ?? '-'} ${i.compression}`;
}

function sameMpp(a: Slide, b: Slide): boolean {
  if (!a.mpp || !b.mpp) return !a.mpp && !b.mpp;
  return Math.abs(a.mpp.x - b.mpp.x) < 1e-9 && Math.abs(a.mpp.y - b.mpp.y) < 1e-9;
}
