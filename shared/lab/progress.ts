/**
 * `npm run progress [-- --recheck]`: every lesson as ✓ done, ◐ started or ○ not started.
 *
 * Computed from the latest `check:N` of each lesson (kept in the git-ignored `.lab/checks/`):
 * done = every test passed; started = the lesson's files differ from the shipped starter (or, without
 * a starter copy to compare with, a check ran); not started = neither. A failing check of untouched
 * starter code is not a start: `--recheck` on a fresh clone leaves every lesson "not started".
 * `--recheck` first runs every lesson's tests again, quietly, and keeps the results as `check:N` would.
 */
import { availableLessons, LESSON_TABLE, repoPath, type Lesson } from './lessons.ts';
import { readLatestCheck, type LatestCheck } from './checkResults.ts';
import { bold, cyan, dim, green, npmRun, say, sayNext, tests, yellow } from './output.ts';
import { checkEventsFile, stateDir } from './state.ts';
import { compareWithStarter, isUnchanged, readStarter } from './starters.ts';
import { cleanTestEnv, runSuite } from './suiteRun.ts';

/** A lesson's suite that runs longer than this during --recheck is stopped and counted as not passing. */
const RECHECK_TIMEOUT_MS = 5 * 60_000;

/** `done`: the latest check passed; `started`: files edited or checked; `not started`: neither. */
export type LessonState = 'done' | 'started' | 'not started';

/** Where the learner is in one lesson, and the evidence for it. */
export interface LessonProgress {
  lesson: Lesson;
  state: LessonState;
  check: LatestCheck;
  /** The lesson's files differ from its shipped starter (undefined: no starter copy to compare with). */
  edited: boolean | undefined;
}

/** One lesson's progress, from its latest check and a comparison with its starter (no tests run). */
export function lessonProgress(lesson: Lesson): LessonProgress {
  const check = readLatestCheck(lesson);
  const starter = readStarter(lesson);
  const edited = starter ? !isUnchanged(compareWithStarter(starter, lesson.lessonDir)) : undefined;
  const state: LessonState = check.ran && check.passed ? 'done' : (edited ?? check.ran) ? 'started' : 'not started';
  return { lesson, state, check, edited };
}

const MARKS: Record<LessonState, string> = { done: '✓', started: '◐', 'not started': '○' };

/** `npm run progress` (`--recheck` runs every lesson's tests first). Resolves to the exit code. */
export async function progressCommand(options: { recheck: boolean }): Promise<number> {
  const lessons = availableLessons();
  if (options.recheck) {
    say(bold('Re-checking every lesson') + dim(' (quietly; results go to .lab/checks/ as with check:N)'));
    for (const lesson of lessons) await recheck(lesson);
    say();
  }

  const rows = lessons.map(lessonProgress);
  say(bold('Your progress') + dim(` (from your latest checks in ${repoPath(stateDir())}/checks/)`));
  for (const facts of LESSON_TABLE) {
    const row = rows.find((candidate) => candidate.lesson.number === facts.number);
    if (!row) {
      say(dim(`  · ${String(facts.number).padStart(2)}  ${facts.title} (coming)`));
      continue;
    }
    const paint = row.state === 'done' ? green : row.state === 'started' ? yellow : dim;
    say(`  ${paint(MARKS[row.state])} ${String(facts.number).padStart(2)}  ${facts.title.padEnd(width())}  ${paint(row.state)}${dim(detail(row))}`);
  }
  say();
  const next = rows.find((row) => row.state !== 'done');
  if (!next) {
    say(green('Every lesson that exists passes. Well done.'));
    return 0;
  }
  const n = next.lesson.number;
  sayNext('Next:', [
    next.state === 'not started'
      ? [npmRun(`lesson:${n}`), `start lesson ${n}; its text is ${repoPath(next.lesson.lessonDir)}/README.md`]
      : [npmRun(`check:${n}`), `see what still fails in lesson ${n}`],
    [`${npmRun('progress')} -- --recheck`, 'run every lesson\'s tests again first'],
  ]);
  return 0;
}

function width(): number {
  return Math.max(...LESSON_TABLE.map((row) => row.title.length));
}

function detail(row: LessonProgress): string {
  const { check } = row;
  if (!check.ran) return row.edited ? ' · files edited, not checked yet' : '';
  const counts = check.passed ? ` · ${tests(check.total)} pass` : ` · ${check.passedCount} of ${tests(check.total)} pass`;
  const todo = !check.passed && check.firstTodo ? ` · next: TODO ${check.firstTodo}` : '';
  const stale = check.stale ? ' · files changed since that check' : '';
  return `${counts}${todo} · checked ${ago(check.when)}${stale}`;
}

/** "just now", "5 min ago", "3 h ago", or the date. */
export function ago(when: Date | undefined, now = new Date()): string {
  if (!when) return 'at an unknown time';
  const minutes = Math.round((now.getTime() - when.getTime()) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  if (minutes < 24 * 60) return `${Math.round(minutes / 60)} h ago`;
  return `on ${when.toISOString().slice(0, 10)}`;
}

async function recheck(lesson: Lesson): Promise<void> {
  process.stdout.write(`  ${cyan(`lesson ${lesson.number}`)} ${dim('…')} `);
  const run = await runSuite({
    tests: [repoPath(lesson.testFile)],
    target: 'lessons',
    eventsFile: checkEventsFile(lesson),
    mode: 'isolated',
    timeoutMs: RECHECK_TIMEOUT_MS,
    env: cleanTestEnv(),
  });
  const total = run.events.tests.length;
  const passed = run.events.tests.filter((test) => test.status === 'passed').length;
  if (run.timedOut) say(yellow(`stopped after ${RECHECK_TIMEOUT_MS / 60_000} minutes (${npmRun(`check:${lesson.number}`)} shows why)`));
  else if (!run.events.ended && total === 0) say(yellow(`the tests did not run (${npmRun(`check:${lesson.number}`)} shows why)`));
  else say(`${passed} of ${tests(total)} pass`);
}
