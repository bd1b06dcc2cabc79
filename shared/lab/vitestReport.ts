/**
 * Reading vitest's JSON report (`--reporter=json --outputFile.json=…`) to count tests.
 */
import { existsSync, readFileSync } from 'node:fs';

/** Counts from one vitest run. */
export interface TestCounts {
  total: number;
  passed: number;
  failed: number;
  /** Skipped and todo tests. */
  skipped: number;
  /** Test files that could not run at all (an import error, a failing hook outside tests). */
  brokenFiles: number;
  /** The failed tests in file order, with the first line of their message. */
  failures: Array<{ name: string; message: string }>;
}

interface JsonReport {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests?: number;
  numTodoTests?: number;
  numFailedTestSuites?: number;
  testResults?: Array<{
    status?: string;
    message?: string;
    assertionResults?: Array<{ fullName?: string; title?: string; status?: string; failureMessages?: string[] }>;
  }>;
}

/** The counts in a report file, or undefined when vitest did not write one (it crashed or was stopped). */
export function readTestCounts(file: string): TestCounts | undefined {
  if (!existsSync(file)) return undefined;
  let report: JsonReport;
  try {
    report = JSON.parse(readFileSync(file, 'utf8')) as JsonReport;
  } catch {
    return undefined;
  }
  const files = report.testResults ?? [];
  const failures = files.flatMap((result) =>
    (result.assertionResults ?? [])
      .filter((test) => test.status === 'failed')
      .map((test) => ({ name: test.fullName ?? test.title ?? '(unnamed test)', message: firstLine(test.failureMessages?.[0]) })),
  );
  return {
    total: report.numTotalTests,
    passed: report.numPassedTests,
    failed: report.numFailedTests,
    skipped: (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0),
    brokenFiles: files.filter((result) => result.status === 'failed' && (result.assertionResults ?? []).every((t) => t.status !== 'failed')).length,
    failures,
  };
}

function firstLine(text: string | undefined): string {
  return (text ?? '').split('\n').find((line) => line.trim() !== '')?.trim() ?? '';
}

/** "3 tests" / "1 test". */
export function tests(count: number): string {
  return `${count} test${count === 1 ? '' : 's'}`;
}
