/**
 * `npm run check:N` (and `check:N:watch`): run lesson N's tests against the learner's code, then say what
 * to do next.
 *
 * The output is written for the learner, not for a CI log: the first failure first with its message
 * (the tests' messages say what was expected, what happened and which TODO to look at), the other
 * failures after it, the learner's server logs only when something failed, and a footer with the
 * next commands. vitest's own JSON report stays in `.lab/checks/` for `progress` and `hint:N`.
 */
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { findLesson, LESSON_TABLE, nextLesson, repoPath, type Lesson } from './lessons.ts';
import { bold, dim, green, LabError, npmRun, red, say, sayNext, tests, yellow } from './output.ts';
import { listenForStop } from './processes.ts';
import { firstTodo } from './checkResults.ts';
import { checkEventsFile } from './state.ts';
import { runSuite, type RunEvents, type SuiteRun, type TestEvent } from './suiteRun.ts';

/** A check that runs longer than this is stuck (a suite has its own per-test timeouts, far below it). */
const CHECK_TIMEOUT_MS = 10 * 60_000;
/** At most this many lines of the learner's server logs are shown; the rest stays in the events file. */
const LOG_LINES = 40;

/**
 * `npm run check:N` (and `check:N:watch` with `watchMode`): runs lesson N's tests against the learner's
 * code and prints the first failure with its TODO. Resolves to the exit code (0: every test passes).
 */
export async function checkLesson(arg: string | undefined, watchMode: boolean): Promise<number> {
  const lesson = findLesson(arg);
  if (!existsSync(lesson.testFile)) {
    throw new LabError(
      `${repoPath(lesson.testFile)} is missing, so lesson ${lesson.number} cannot be checked. Restore it with git checkout -- ${repoPath(lesson.testFile)}`,
    );
  }
  if (watchMode) return watchLesson(lesson);
  const outcome = await checkOnce(lesson);
  say();
  printFooter(lesson, outcome);
  return outcome.passed ? 0 : 1;
}

/** What one check found. */
export interface CheckOutcome {
  passed: boolean;
  /** The TODO named by the first failure that names one (what `hint:N` picks too). */
  firstTodo?: string;
  failed: number;
  total: number;
}

/** Runs the suite once and prints the results (but not the footer). */
async function checkOnce(lesson: Lesson): Promise<CheckOutcome> {
  const testFile = repoPath(lesson.testFile);
  say(bold(`Checking lesson ${lesson.number} · ${lesson.title}`) + dim(` (${repoPath(lesson.lessonDir)})`));
  // Print the real command, so nobody depends on this wrapper to run the tests.
  say(dim(`Runs: npx vitest run ${testFile}   with LAB_TARGET=lessons`));
  say();
  const run = await runSuite({
    tests: [testFile],
    target: 'lessons',
    // The events stay in the git-ignored state folder: evidence of progress for later commands.
    eventsFile: checkEventsFile(lesson),
    mode: 'capture',
    timeoutMs: CHECK_TIMEOUT_MS,
  });
  return printResults(lesson, run);
}

/** The results, first failure first. Exported for the tests of the tooling. */
export function printResults(lesson: Lesson, run: SuiteRun): CheckOutcome {
  const { events } = run;
  const failures = events.tests.filter((test) => test.status === 'failed');
  const passedCount = events.tests.filter((test) => test.status === 'passed').length;
  const total = events.tests.length;

  if (!events.ended && total === 0) {
    // vitest itself failed (a syntax error in the suite, a crash): its own output is all there is.
    say(run.output.trimEnd());
    say();
    const why = run.timedOut ? `did not finish within ${CHECK_TIMEOUT_MS / 60_000} minutes` : `stopped early (exit code ${run.code})`;
    say(red(`✘ The tests ${why}; read the output above.`));
    return { passed: false, failed: 0, total: 0 };
  }

  if (events.errors.length > 0) {
    say(red(bold('✘ Part of the suite could not run:')));
    for (const error of events.errors) say(`  ${error.message}`);
    say();
  }

  if (failures.length > 0) {
    say(red(bold(`✘ ${failures.length} of ${tests(total)} fail. The first failure:`)));
    printFailure(failures[0]!, 1, undefined);
    if (failures.length > 1) {
      say();
      say(bold('Also failing:'));
      failures.slice(1).forEach((failure, index) => printFailure(failure, index + 2, failures[index]!.message));
    }
    say();
    say(green(`✔ ${passedCount} of ${tests(total)} pass.`));
  } else if (events.errors.length === 0 && total > 0) {
    say(green(`✔ All ${tests(total)} pass:`));
    for (const test of events.tests) say(`  ${green('✔')} ${test.name}`);
  }

  const passed = failures.length === 0 && events.errors.length === 0 && total > 0 && run.code === 0;
  if (!passed) printLogs(lesson, events, failures);
  return { passed, firstTodo: firstTodo(failures, events), failed: failures.length, total };
}

function printFailure(failure: TestEvent, number: number, previousMessage: string | undefined): void {
  say(`  ${red(`${number}.`)} ${failure.fullName}`);
  const message = failure.message || '(the test failed without a message)';
  say(message === previousMessage ? `     ${dim('(the same message as above)')}` : message.replace(/^/gm, '     '));
}

/** The learner's server logs, only from the failing tests and from outside any test. */
function printLogs(lesson: Lesson, events: RunEvents, failures: TestEvent[]): void {
  const failing = new Set(failures.map((test) => test.id));
  const known = new Set(events.tests.map((test) => test.id));
  const relevant = events.logs.filter((log) => log.taskId === null || failing.has(log.taskId) || !known.has(log.taskId));
  const lines = relevant.flatMap((log) => log.content.replace(/\n$/, '').split('\n'));
  if (lines.length === 0) return;
  say();
  say(bold('Logs of your code while the failing tests ran:'));
  if (lines.length > LOG_LINES) {
    say(dim(`  (${lines.length - LOG_LINES} earlier lines are in ${repoPath(checkEventsFile(lesson))})`));
  }
  for (const line of lines.slice(-LOG_LINES)) say(dim(`  │ `) + line);
}

function printFooter(lesson: Lesson, outcome: CheckOutcome): void {
  const n = lesson.number;
  if (outcome.passed) {
    say(green(`✔ Lesson ${n} passes (${tests(outcome.total)}).`));
    const next = nextLesson(lesson);
    if (next) {
      say(`Next: ${npmRun(`lesson:${next.number}`)} (or the README's next step). Start by reading ${repoPath(next.lessonDir)}/README.md.`);
    } else {
      const coming = LESSON_TABLE.find((row) => row.number > n);
      say(
        coming
          ? `Next: the README's next step. Lesson ${coming.number} (${coming.title}) is coming.`
          : "That was the last lesson. Next: the README's closing notes.",
      );
    }
    say(dim(`${npmRun('progress')} shows all lessons.`));
    return;
  }
  const summary = outcome.total === 0 ? 'the tests did not run' : `${outcome.failed} of ${tests(outcome.total)} fail`;
  say(red(`✘ Lesson ${n} does not pass yet: ${summary}.`));
  const todo = outcome.firstTodo ? `TODO ${outcome.firstTodo}` : 'the first failing step';
  sayNext('Next:', [
    [`${repoPath(lesson.lessonDir)}/README.md`, `re-read the step for ${todo}`],
    [npmRun(`hint:${n}`), `a hint for ${todo}, one step at a time`],
    [npmRun(`diff:${n}`), "your files next to the solution's (spoilers!)"],
    [npmRun(`solution:${n}`), 'see the reference solution run'],
    [npmRun(`check:${n}:watch`), 'check again on every save'],
  ]);
}

/** `check:N:watch`: check now, then again whenever a file of the lesson changes, until Ctrl+C. */
async function watchLesson(lesson: Lesson): Promise<number> {
  const stop = listenForStop();
  let watcher: FSWatcher | undefined;
  let outcome: CheckOutcome | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;

  const run = async () => {
    do {
      again = false;
      outcome = await checkOnce(lesson);
      say();
      say(
        (outcome.passed ? green('✔ passes') : red(`✘ ${outcome.failed} of ${tests(outcome.total)} fail`)) +
          dim(` · watching ${repoPath(lesson.lessonDir)}; save a file to check again, Ctrl+C to stop`),
      );
    } while (again && !stop.isRequested);
    running = undefined;
  };
  const trigger = () => {
    if (stop.isRequested) return;
    if (running) {
      again = true;
      return;
    }
    say();
    say(yellow(`─── a file changed, checking again (${new Date().toLocaleTimeString()}) ───`));
    running = run();
  };

  try {
    running = run();
    watcher = watch(lesson.lessonDir, { recursive: true }, () => {
      // Editors write a file in several steps: wait until they are done.
      clearTimeout(timer);
      timer = setTimeout(trigger, 300);
    });
    await stop.requested;
    clearTimeout(timer);
    watcher.close();
    await running;
  } finally {
    watcher?.close();
    stop.dispose();
  }
  say();
  say(dim('Stopped watching.'));
  if (outcome) printFooter(lesson, outcome);
  return outcome?.passed ? 0 : 1;
}
