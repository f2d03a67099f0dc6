// A node:test reporter that only counts: run-all.mjs reads its JSON to print the closing line.
// Suites are not tests; a failing hook or file-level error counts as one failure.
export default async function* countReporter(source) {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const d = event.data;
    if (d.details?.type === 'suite' && event.type === 'test:pass') continue;
    if (d.skip || d.todo) counts.skipped++;
    else if (event.type === 'test:pass') counts.passed++;
    else if (d.details?.type === 'suite' && d.details?.error?.failureType === 'subtestsFailed') continue;
    else counts.failed++;
  }
  yield JSON.stringify(counts);
}
