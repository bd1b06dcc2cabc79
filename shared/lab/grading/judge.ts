/**
 * From one run of a lesson's tests to a verdict: status, points per test, one readable message, and
 * whether the run can be trusted at all (its sentinels, what the sandbox refused).
 */
import { LESSON_LOAD_ERROR, type RunEvents, type TestEvent } from '../suiteRun.ts';
import { round, sum, type GradedLesson, type GradedTest, type GradedTestStatus, type LessonStatus } from './report.ts';

/** One lesson's tests and the points each is worth, from `grading.json`. */
export interface Plan {
  number: number;
  folder: string;
  tests: Array<{ fullName: string; points: number }>;
}

/** What the judge needs from a run. */
export interface RunFacts {
  events: RunEvents;
  timedOut: boolean;
  code: number;
  output: string;
}

/**
 * Text for a report: scratch paths replaced (`[from, to]` pairs, e.g. the sandbox's lessons folder → the
 * submission's), and without the assertion library's notes ("expected 1 to be 2 // Object.is equality").
 */
export function cleanMessage(text: string, replacements: Array<[string, string]> = []): string {
  let clean = text.replace(/\s*\/\/ Object\.is equality/g, '');
  for (const [from, to] of replacements) clean = clean.split(from).join(to);
  return clean;
}

/**
 * The sentinels' verdict: each always fails, so one reported otherwise, or one missing from a run whose
 * graded tests passed, means the results were changed from inside the run.
 */
export function sentinelProblems(run: RunFacts, sentinels: readonly string[], plan: Plan): string[] {
  const graded = new Set(plan.tests.filter((test) => test.points > 0).map((test) => test.fullName));
  const anyPassed = run.events.tests.some((test) => graded.has(test.fullName) && test.status === 'passed');
  const problems: string[] = [];
  sentinels.forEach((name, index) => {
    const event = run.events.tests.find((test) => test.fullName === name);
    if (event && event.status !== 'failed') {
      problems.push(`a check that always fails was reported as ${event.status}: the run's reporting was changed from inside`);
    } else if (!event && anyPassed && (index === 0 || run.events.ended)) {
      problems.push(`a check that always fails is missing from its results while tests passed: the run's reporting was changed from inside`);
    }
  });
  return [...new Set(problems)];
}

/** Status, points and per-test results from one run. `tampering` (reasons) makes it 0 points. */
export function judge(
  plan: Plan,
  run: RunFacts,
  timeLimitSeconds: number,
  tampering: string[] = [],
  clean: (text: string) => string = cleanMessage,
): Omit<GradedLesson, 'durationMs' | 'modifiedOwnFiles'> {
  const planned = new Set(plan.tests.map((test) => test.fullName));
  const graded = plan.tests.filter((test) => test.points > 0);
  const byName = new Map<string, TestEvent>(run.events.tests.filter((test) => planned.has(test.fullName)).map((test) => [test.fullName, test]));
  const reported = [...byName.values()];
  const failures = reported.filter((test) => test.status === 'failed');
  const gradedPassed = graded.some((test) => byName.get(test.fullName)?.status === 'passed');
  const importError = failures.find((test) => test.code === LESSON_LOAD_ERROR);
  const { events } = run;

  let status: LessonStatus;
  let message: string;
  if (tampering.length > 0) {
    status = 'tampered';
    message = `tampered: ${tampering[0]}`;
  } else if (run.timedOut) {
    status = 'timeout';
    const finished = graded.filter((test) => byName.has(test.fullName)).length;
    message = `hung: stopped after the time limit of ${timeLimitSeconds} s (${finished} of ${graded.length} graded tests had finished)`;
  } else if (importError && !gradedPassed) {
    // Decided on the tests that carry points: a given test that passes anyway does not hide it.
    status = 'import-error';
    message = importError.message;
  } else if (!events.ended || (reported.length === 0 && events.errors.length > 0)) {
    status = 'crashed';
    const why = events.errors[0]?.message || lastLine(run.output) || `vitest exited with code ${run.code}`;
    message = `crashed: ${why}`;
  } else if (failures.length === 0 && events.errors.length === 0 && reported.length === plan.tests.length && reported.length > 0) {
    status = 'passed';
    message = 'every test passes';
  } else {
    status = 'failed';
    message = failures[0]?.message || events.errors[0]?.message || 'some tests did not run';
  }

  const notRun = status === 'timeout' ? 'not run: the time limit was reached' : status === 'crashed' ? 'not run: the test run crashed' : 'not run';
  const tests: GradedTest[] = plan.tests.map(({ fullName, points }) => {
    const event = byName.get(fullName);
    const testStatus: GradedTestStatus = !event ? 'not-run' : event.status === 'passed' ? 'passed' : event.status === 'failed' ? 'failed' : event.status === 'skipped' ? 'skipped' : 'not-run';
    return {
      fullName,
      status: testStatus,
      message: clean(event?.status === 'failed' ? event.message : event ? '' : notRun),
      points: testStatus === 'passed' && status !== 'tampered' ? points : 0,
      maxPoints: points,
    };
  });
  return {
    number: plan.number,
    folder: plan.folder,
    status,
    message: clean(message),
    points: sum(tests.map((test) => test.points)),
    maxPoints: round(sum(tests.map((test) => test.maxPoints))),
    tampering,
    tests,
  };
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter((line) => line.trim() !== '').at(-1)?.trim() ?? '';
}
