/**
 * A vitest reporter for the lab tooling: it appends one JSON line per event to the file named by
 * LAB_EVENTS_FILE, as the events happen, so that even a run that is killed (a submission that hangs)
 * leaves the results of the tests that finished before.
 *
 * Lines (see RunEvent in suiteRun.ts): `test` (a finished test: status, learner-facing message),
 * `log` (console output of the code under test, tagged with the test that was running), `error` (a
 * test file that could not run, an unhandled error), `end` (the run finished on its own).
 *
 * Used as `vitest run <file> --reporter=./shared/lab/labReporter.ts`, next to vitest's own reporters.
 */
import { appendFileSync } from 'node:fs';
import type { Reporter, TestCase, TestModule, TestRunEndReason } from 'vitest/node';

type SerializedError = { message?: string; name?: string; stack?: string; code?: unknown };

/** An error's `code` (vitest keeps an error's own properties), when it is a string. */
const codeOf = (error: SerializedError | undefined): string | undefined => (typeof error?.code === 'string' ? error.code : undefined);

/**
 * The learner-facing part of an error: the test's own message, without the stack or a diff. Usually
 * one line; a few when the first ends in a colon (a syntax error in the learner's file names the
 * place on the next line).
 */
export function learnerMessage(error: SerializedError | undefined): string {
  if (!error) return '';
  // Some tools colour their errors whatever NO_COLOR says; the lab prints its own colours.
  const text = (error.message ?? String(error)).replace(/\u001b\[[0-9;]*m/g, '');
  // Lines of a code frame's box drawing carry nothing to read.
  const lines = text.split('\n').filter((line) => /[\p{L}\p{N}]/u.test(line));
  const end = lines.findIndex((line) => /^\s+at /.test(line));
  const kept = (end === -1 ? lines : lines.slice(0, end)).slice(0, 4).map((line) => line.trim());
  return (kept[0]?.endsWith(':') ? kept : kept.slice(0, 1)).join('\n');
}

/** The reporter itself; vitest constructs it once per run, in its main process. */
export default class LabReporter implements Reporter {
  private readonly file = process.env.LAB_EVENTS_FILE;

  constructor() {
    // The reporter runs in vitest's main process, before any test worker starts: workers (where the code
    // under test runs) are not told where the results go.
    delete process.env.LAB_EVENTS_FILE;
  }

  private write(event: Record<string, unknown>): void {
    if (this.file) appendFileSync(this.file, `${JSON.stringify(event)}\n`);
  }

  onTestCaseResult(test: TestCase): void {
    const result = test.result();
    const errors = result.state === 'failed' ? result.errors : [];
    this.write({
      kind: 'test',
      id: test.id,
      file: test.module.relativeModuleId,
      name: test.name,
      fullName: test.fullName,
      status: result.state,
      message: learnerMessage(errors[0]),
      code: codeOf(errors[0]),
      durationMs: Math.round(test.diagnostic()?.duration ?? 0),
    });
  }

  onUserConsoleLog(log: { content: string; type: 'stdout' | 'stderr'; taskId?: string }): void {
    this.write({ kind: 'log', taskId: log.taskId ?? null, stream: log.type, content: log.content });
  }

  onTestModuleEnd(module: TestModule): void {
    for (const error of module.errors()) {
      this.write({ kind: 'error', file: module.relativeModuleId, message: learnerMessage(error), code: codeOf(error) });
    }
  }

  onTestRunEnd(_modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<SerializedError>, reason: TestRunEndReason): void {
    for (const error of unhandled) this.write({ kind: 'error', file: null, message: learnerMessage(error), code: codeOf(error) });
    this.write({ kind: 'end', reason });
  }
}
