/**
 * `npm test`: the workshop's integrity check, for maintainers and CI.
 *
 * Steps, run side by side (PARALLEL_STEPS at a time) and reported in this order:
 *   1. lesson table  every NN-* folder under lessons/ and solutions/ has a row in shared/lab/lessons.ts
 *   2. starter copies  every lesson's starter equals its checked-in copy (shared/lab/starters/), which
 *                    reset:N restores; refresh with `npx tsx shared/lab/cli.ts starters --update`
 *   2a. given files  every lesson file without a TODO is byte-identical in lessons/ and solutions/, so a
 *                    fix to given code cannot land in one copy only (shared/lab/givenFiles.ts)
 *   2b. translations every README and hints file has a zh-CN translation stamped with the hash of the
 *                    English it follows, naming the same TODO steps (shared/lab/translations.ts)
 *   3. unit tests    `vitest run tests/shared tests/tooling`, files in parallel: the shared code and the
 *                    lab tooling (skipped while neither folder has tests)
 *   4. typecheck     `tsc --noEmit -p .` over the whole repository
 *   5. per lesson    the suite with LAB_TARGET=solutions passes, every test
 *   6. per lesson    the suite with LAB_TARGET=lessons fails at least one test: a starter that passes
 *                    leaves the learner nothing to do, which is an integrity failure; and every test
 *                    that passes on the starter has 0 points in grading.json (an untouched workspace
 *                    scores 0)
 *
 * It prints one line per step with its counts and ends with `N passed, N failed`, where N counts
 * integrity steps (a skipped step counts as neither). Exit code 1 when any step failed. Output of a
 * step is replayed only when the step fails.
 */
import './requireNode.ts';
import './compileCache.ts';
import { mkdtempSync, readdirSync, rmSync, statSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { availableLessons, repoPath, ROOT, unregisteredFolders, type CodeKind, type Lesson } from './lessons.ts';
import { bold, dim, green, red, say, tests, yellow } from './output.ts';
import { runNode, tscBin } from './processes.ts';
import { differingGivenFiles } from './givenFiles.ts';
import { staleStarters } from './starters.ts';
import { TRANSLATION, translationPairs, translationProblems } from './translations.ts';
import { countTests, runSuite } from './suiteRun.ts';
import { readGradingConfig, testPoints } from './gradingConfig.ts';

/** Replayed output stays free of colour codes when this run goes to a log file rather than a terminal. */
const plainOutput: NodeJS.ProcessEnv = process.stdout.isTTY ? {} : { NO_COLOR: '1' };

/** A suite that hangs must not hang CI. */
const STEP_TIMEOUT_MS = 10 * 60_000;
/**
 * How many steps run at once. Each is one tsc or vitest process, and every suite listens on ports of
 * its own (tests/support/harness.ts), so lessons can be checked side by side.
 */
const PARALLEL_STEPS = Math.max(2, os.availableParallelism());

type Verdict = 'pass' | 'fail' | 'skip';

interface StepResult {
  verdict: Verdict;
  /** One line: what was counted. */
  detail: string;
  /** Shown under the step line when the step failed (captured output, failing tests). */
  explain?: string;
}

const results: Verdict[] = [];

/** One integrity step: a name for its line and the work that decides its verdict. */
interface Step {
  name: string;
  run: () => StepResult | Promise<StepResult>;
}

/**
 * Runs the steps, at most PARALLEL_STEPS at a time in the order given, and prints each one's line in
 * that order once it has finished, with how long it took.
 */
async function runSteps(steps: Step[]): Promise<void> {
  const slot = limit(PARALLEL_STEPS);
  const outcomes = steps.map((step) =>
    slot(async () => {
      const startedAt = performance.now();
      const result = await Promise.resolve()
        .then(step.run)
        .catch((error: unknown): StepResult => ({ verdict: 'fail', detail: 'the step itself crashed', explain: String((error as Error)?.stack ?? error) }));
      return { result, seconds: (performance.now() - startedAt) / 1000 };
    }),
  );
  for (const [index, { name }] of steps.entries()) {
    const { result, seconds } = await outcomes[index]!;
    results.push(result.verdict);
    const mark = { pass: green('✔'), fail: red('✘'), skip: yellow('–') }[result.verdict];
    say(`${mark} ${name.padEnd(22)} ${result.detail} ${dim(`(${seconds.toFixed(1)} s)`)}`);
    if (result.verdict === 'fail' && result.explain) say(indent(result.explain.trimEnd()));
  }
}

/** A gate that lets at most `count` tasks run at once; the others wait their turn, first come first served. */
function limit(count: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (active >= count) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}

function lessonTable(): StepResult {
  const strays = unregisteredFolders();
  const lessons = availableLessons();
  const names = lessons.map((lesson) => lesson.folder).join(', ') || 'none yet';
  if (strays.length > 0) {
    return {
      verdict: 'fail',
      detail: `${strays.length} folder(s) have no row in shared/lab/lessons.ts: ${strays.join(', ')}`,
      explain: 'Add a row to LESSON_TABLE (number, slug, title, transport, emulator, Graph bridge, tenant variables), or rename the folder to NN-slug.',
    };
  }
  return { verdict: 'pass', detail: `${lessons.length} lesson(s) found: ${names}` };
}

function translations(): StepResult {
  const problems = translationProblems();
  const count = translationPairs().length;
  if (problems.length === 0) return { verdict: 'pass', detail: `${count} ${TRANSLATION} text(s), each in step with its English source` };
  return {
    verdict: 'fail',
    detail: `${problems.length} ${TRANSLATION} translation problem(s)`,
    explain: `${problems.map(({ translation, problem }) => `${translation}: ${problem}`).join('\n')}\nUpdate the translation with the English change, then: npx tsx shared/lab/cli.ts translations --stamp <file>`,
  };
}

async function typecheck(): Promise<StepResult> {
  const run = await runNode([tscBin(), '--noEmit', '-p', '.'], { env: { ...process.env, ...plainOutput }, capture: true, timeoutMs: STEP_TIMEOUT_MS });
  const errors = run.output.match(/error TS\d+:/g)?.length ?? 0;
  if (run.code === 0) return { verdict: 'pass', detail: 'tsc --noEmit -p .: 0 errors' };
  return {
    verdict: 'fail',
    detail: `tsc --noEmit -p .: ${run.timedOut ? 'timed out' : `${errors} error${errors === 1 ? '' : 's'}`}`,
    explain: run.output,
  };
}

/** True when `dir` holds at least one `*.test.ts` file, at any depth. */
function hasTests(dir: string): boolean {
  if (!existsSync(dir)) return false;
  return readdirSync(dir).some((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? hasTests(full) : name.endsWith('.test.ts');
  });
}

function starterCopies(): StepResult {
  const stale = staleStarters();
  if (stale.length === 0) return { verdict: 'pass', detail: `${availableLessons().length} lesson(s): each equals shared/lab/starters/NN-slug.json` };
  return {
    verdict: 'fail',
    detail: `${stale.length} starter copy(ies) missing or out of date`,
    explain: `${stale.join('\n')}\nreset:N restores these copies. If lessons/ holds the starters as they should ship, run: npx tsx shared/lab/cli.ts starters --update`,
  };
}

function givenFiles(): StepResult {
  const differing = availableLessons().flatMap(differingGivenFiles);
  if (differing.length === 0) return { verdict: 'pass', detail: 'every file without a TODO is the same in lessons/ and solutions/' };
  return {
    verdict: 'fail',
    detail: `${differing.length} given file(s) differ between lessons/ and solutions/: ${differing.join(', ')}`,
    explain: 'A file without a TODO is given: make both copies the same (then npx tsx shared/lab/cli.ts starters --update), or mark the learner\'s part with a TODO.',
  };
}

/**
 * Runs vitest on `filters` with LAB_TARGET (the lab's one way to run tests, suiteRun.ts) and returns
 * the counts, or undefined when the run ended before any test did (vitest's output then says why).
 */
async function vitest(filters: string[], target: CodeKind | undefined, eventsDir: string, label: string, vitestArgs: string[] = []) {
  const run = await runSuite({
    tests: filters,
    target,
    eventsFile: path.join(eventsDir, `${label}.ndjson`),
    mode: 'capture',
    timeoutMs: STEP_TIMEOUT_MS,
    env: { ...process.env, ...plainOutput },
    // vitest's own report as well: it is what a failed step replays.
    vitestArgs: ['--reporter=default', ...vitestArgs],
  });
  const counts = countTests(run.events);
  const brokenFiles = run.events.errors.length;
  return { run, counts: run.events.ended || counts.total > 0 ? { ...counts, brokenFiles } : undefined };
}

async function unitTests(eventsDir: string): Promise<StepResult> {
  const folders = ['tests/shared', 'tests/tooling'].filter((folder) => hasTests(path.join(ROOT, folder)));
  if (folders.length === 0) return { verdict: 'skip', detail: 'skipped: no tests in tests/shared or tests/tooling yet' };
  // As many files at a time as steps, two even on two cores where vitest's default is one: the slow
  // files (grading a room, the learner's commands) mostly wait on the runs they start.
  const { run, counts } = await vitest(folders, undefined, eventsDir, 'unit', [`--maxWorkers=${PARALLEL_STEPS}`]);
  if (!counts) return { verdict: 'fail', detail: noReport(run), explain: run.output };
  const detail = `${folders.join(' + ')}: ${counts.passed} of ${tests(counts.total)} pass`;
  return run.code === 0 && counts.failed === 0 ? { verdict: 'pass', detail } : { verdict: 'fail', detail, explain: run.output };
}

async function solutionPasses(lesson: Lesson, eventsDir: string): Promise<StepResult> {
  const missing = missingFor(lesson, lesson.solutionDir);
  if (missing) return { verdict: 'fail', detail: missing };
  const { run, counts } = await vitest([repoPath(lesson.testFile)], 'solutions', eventsDir, `${lesson.folder}-solutions`);
  if (!counts) return { verdict: 'fail', detail: noReport(run), explain: run.output };
  const detail = `${repoPath(lesson.solutionDir)}: ${counts.passed} of ${tests(counts.total)} pass`;
  if (run.code === 0 && counts.total > 0 && counts.failed === 0 && counts.brokenFiles === 0) return { verdict: 'pass', detail };
  const why = counts.total === 0 ? ' (the suite has no tests)' : '';
  return { verdict: 'fail', detail: detail + why, explain: `${run.output}\n${reproduce(lesson, 'solutions')}` };
}

async function starterFails(lesson: Lesson, eventsDir: string): Promise<StepResult> {
  const missing = missingFor(lesson, lesson.lessonDir);
  if (missing) return { verdict: 'fail', detail: missing };
  const { run, counts } = await vitest([repoPath(lesson.testFile)], 'lessons', eventsDir, `${lesson.folder}-lessons`);
  if (!counts) return { verdict: 'fail', detail: noReport(run), explain: run.output };
  const where = repoPath(lesson.lessonDir);
  if (counts.failed > 0) {
    // What passes untouched checks given code: grading.json gives it 0, or an untouched workspace scores.
    const { points } = testPoints(readGradingConfig(), lesson.number, run.events.tests.map((test) => test.fullName));
    const scoring = run.events.tests.filter((test) => test.status === 'passed' && points.get(test.fullName)! > 0);
    if (scoring.length > 0) {
      return {
        verdict: 'fail',
        detail: `${where}: ${scoring.length} test(s) pass on the untouched starter and still score in grading.json`,
        explain: `${scoring.map((test) => `  ${test.name}`).join('\n')}\nGive each 0 points under lesson ${lesson.number} in grading.json (it checks given code), or make it fail on the starter.`,
      };
    }
    return { verdict: 'pass', detail: `${where}: ${counts.failed} of ${tests(counts.total)} fail, as a starter should` };
  }
  if (counts.brokenFiles > 0) {
    return {
      verdict: 'fail',
      detail: `${where}: the suite could not run against the starter (no test failed; the file errored)`,
      explain: `A starter must load and fail specific tests, not break the suite.\n${run.output}\n${reproduce(lesson, 'lessons')}`,
    };
  }
  return {
    verdict: 'fail',
    detail: `${where}: all ${tests(counts.total)} pass, so the starter leaves the learner nothing to do`,
    explain: 'Put the TODOs back: the starter must fail at least one test of its lesson.',
  };
}

/** The command that repeats one lesson step by hand (LAB_TARGET set the way your shell does it). */
function reproduce(lesson: Lesson, target: CodeKind): string {
  return `Repeat it: set LAB_TARGET=${target}, then run npx vitest run ${repoPath(lesson.testFile)}`;
}

function missingFor(lesson: Lesson, dir: string): string | undefined {
  if (!existsSync(dir)) return `${repoPath(dir)} is missing`;
  if (!existsSync(lesson.testFile)) return `${repoPath(lesson.testFile)} is missing`;
  return undefined;
}

function noReport(run: { code: number; timedOut: boolean }): string {
  return run.timedOut
    ? `vitest did not finish within ${STEP_TIMEOUT_MS / 60_000} minutes and was stopped`
    : `vitest stopped before any test finished (exit code ${run.code}); its output follows`;
}

async function main(): Promise<number> {
  say(bold('Workshop self-test') + dim(': every solution passes, every starter leaves work to do.'));
  const eventsDir = mkdtempSync(path.join(os.tmpdir(), 'workshop-selftest-'));
  try {
    // The long steps first, so the others fill the second slot meanwhile.
    await runSteps([
      { name: 'lesson table', run: lessonTable },
      { name: 'starter copies', run: starterCopies },
      { name: 'given files', run: givenFiles },
      { name: 'translations', run: translations },
      { name: 'unit tests', run: () => unitTests(eventsDir) },
      { name: 'typecheck', run: typecheck },
      ...availableLessons().flatMap((lesson) => [
        { name: `lesson ${lesson.number} solution`, run: () => solutionPasses(lesson, eventsDir) },
        { name: `lesson ${lesson.number} starter`, run: () => starterFails(lesson, eventsDir) },
      ]),
    ]);
  } finally {
    rmSync(eventsDir, { recursive: true, force: true });
  }
  const passed = results.filter((verdict) => verdict === 'pass').length;
  const failed = results.filter((verdict) => verdict === 'fail').length;
  say();
  say(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();
