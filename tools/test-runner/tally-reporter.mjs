// A node:test reporter that counts leaf tests and writes one JSON object.
export async function* tallyReporter(source) {
  const tally = { passed: 0, failed: 0, skipped: 0 };
  for await (const event of source) {
    const data = event.data;
    // Suites (describe blocks) report too; count only leaf tests.
    if (data?.details?.type === 'suite') continue;
    if (event.type === 'test:pass') {
      if (data.skip || data.todo) tally.skipped += 1;
      else tally.passed += 1;
    } else if (event.type === 'test:fail') {
      // A failing `todo` test is expected to fail; node does not fail the run for it.
      if (data.todo) tally.skipped += 1;
      else tally.failed += 1;
    }
  }
  yield JSON.stringify(tally);
}
export { tallyReporter as default };
