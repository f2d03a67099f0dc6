import { writeFileSync } from 'node:fs';

/** Counts browser test results over all sessions and writes them where run-all.mjs looks. */
export function countReporter(outFile) {
  const tally = (suite, c) => {
    for (const t of suite?.tests ?? []) {
      if (t.skipped) c.skipped++;
      else if (t.passed) c.passed++;
      else c.failed++;
    }
    for (const s of suite?.suites ?? []) tally(s, c);
  };
  return {
    onTestRunFinished({ sessions }) {
      const c = { passed: 0, failed: 0, skipped: 0 };
      for (const s of sessions) {
        tally(s.testResults, c);
        // A file that failed to load or threw outside a test has no results: count it as a failure.
        if (!s.passed && (s.errors?.length ?? 0) > 0) c.failed++;
      }
      if (outFile) writeFileSync(outFile, JSON.stringify(c));
      process.stdout.write(`browser: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped\n`);
    },
  };
}
