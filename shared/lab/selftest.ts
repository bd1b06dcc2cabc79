/**
 * `npm test`: the workshop's integrity check, for maintainers and CI.
 *
 * Steps, run one after another (lesson suites share ports and network mocks):
 *   1. lesson table  every NN-* folder under lessons/ and solutions/ has a row in shared/lab/lessons.ts
 *   2. typecheck     `tsc --noEmit -p .` over the whole repository
 *   3. starter copies  every lesson's starter equals its checked-in copy (shared/lab/starters/), which
 *                    reset:N restores; refresh with `npx tsx shared/lab/cli.ts starters --update`
 *   3a. given files  every lesson file without a TODO is byte-identical in lessons/ and solutions/, so a
 *                    fix to given code cannot land in one copy only (shared/lab/givenFiles.ts)
 *   3b. translations every README and hints file has a zh-CN translation stamped with the hash of the
 *                    English it follows, naming the same TODO steps (shared/lab/translations.ts)
 *   4. unit tests    `vitest run tests/shared tests/tooling`: the shared code and the lab tooling
 *                    (skipped while neither folder has tests)
 *   5. per lesson    the suite with LAB_TARGET=solutions passes, every test
 *   6. per lesson    the suite with LAB_TARGET=lessons fails at least one test: a starter that passes
 *                    leaves the learner nothing to do, which is an integrity failure
 *
 * It prints one line per step with its counts and ends with `N passed, N failed`, where N counts
 * integrity steps (a skipped step counts as neither). Exit code 1 when any step failed. Output of a
 * step is replayed only when the step fails.
 */
import './requireNode.ts';
import { mkdtempSync, readdirSync, rmSync, statSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { availableLessons, repoPath, ROOT, unregisteredFolders, type CodeKind, type Lesson } from './lessons.ts';
import { bold, dim, green, red, say, tests, yellow } from './output.ts';
import { portAcceptsConnections, runNode, tscBin } from './processes.ts';
import { differingGivenFiles } from './givenFiles.ts';
import { staleStarters } from './starters.ts';
import { TRANSLATION, translationPairs, translationProblems } from './translations.ts';
import { countTests, runSuite } from './suiteRun.ts';

/** Replayed output stays free of colour codes when this run goes to a log file rather than a terminal. */
const plainOutput: NodeJS.ProcessEnv = process.stdout.isTTY ? {} : { NO_COLOR: '1' };

/** A suite that hangs must not hang CI. */
const STEP_TIMEOUT_MS = 10 * 60_000;
/** The port lessons listen on by default; a running `npm run lesson:N` would collide with the suites. */
const LESSON_PORT = 3001;

type Verdict = 'pass' | 'fail' | 'skip';

interface StepResult {
  verdict: Verdict;
  /** One line: what was counted. */
  detail: string;
  /** Shown under the step line when the step failed (captured output, failing tests). */
  explain?: string;
}

const results: Verdict[] = [];

function report(name: string, result: StepResult): void {
  results.push(result.verdict);
  const mark = { pass: green('✔'), fail: red('✘'), skip: yellow('–') }[result.verdict];
  say(`${mark} ${name.padEnd(22)} ${result.detail}`);
  if (result.verdict === 'fail' && result.explain) say(indent(result.explain.trimEnd()));
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
async function vitest(filters: string[], target: CodeKind | undefined, reportDir: string, label: string) {
  const run = await runSuite({
    tests: filters,
    target,
    eventsFile: path.join(reportDir, `${label}.ndjson`),
    mode: 'capture',
    timeoutMs: STEP_TIMEOUT_MS,
    env: { ...process.env, ...plainOutput },
    // vitest's own report as well: it is what a failed step replays.
    vitestArgs: ['--reporter=default'],
  });
  const counts = countTests(run.events);
  const brokenFiles = run.events.errors.length;
  return { run, counts: run.events.ended || counts.total > 0 ? { ...counts, brokenFiles } : undefined };
}

async function unitTests(reportDir: string): Promise<StepResult> {
  const folders = ['tests/shared', 'tests/tooling'].filter((folder) => hasTests(path.join(ROOT, folder)));
  if (folders.length === 0) return { verdict: 'skip', detail: 'skipped: no tests in tests/shared or tests/tooling yet' };
  const { run, counts } = await vitest(folders, undefined, reportDir, 'unit');
  if (!counts) return { verdict: 'fail', detail: noReport(run), explain: run.output };
  const detail = `${folders.join(' + ')}: ${counts.passed} of ${tests(counts.total)} pass`;
  return run.code === 0 && counts.failed === 0 ? { verdict: 'pass', detail } : { verdict: 'fail', detail, explain: run.output };
}

async function solutionPasses(lesson: Lesson, reportDir: string): Promise<StepResult> {
  const missing = missingFor(lesson, lesson.solutionDir);
  if (missing) return { verdict: 'fail', detail: missing };
  const { run, counts } = await vitest([repoPath(lesson.testFile)], 'solutions', reportDir, `${lesson.folder}-solutions`);
  if (!counts) return { verdict: 'fail', detail: noReport(run), explain: run.output };
  const detail = `${repoPath(lesson.solutionDir)}: ${counts.passed} of ${tests(counts.total)} pass`;
  if (run.code === 0 && counts.total > 0 && counts.failed === 0 && counts.brokenFiles === 0) return { verdict: 'pass', detail };
  const why = counts.total === 0 ? ' (the suite has no tests)' : '';
  return { verdict: 'fail', detail: detail + why, explain: `${run.output}\n${reproduce(lesson, 'solutions')}` };
}

async function starterFails(lesson: Lesson, reportDir: string): Promise<StepResult> {
  const missing = missingFor(lesson, lesson.lessonDir);
  if (missing) return { verdict: 'fail', detail: missing };
  const { run, counts } = await vitest([repoPath(lesson.testFile)], 'lessons', reportDir, `${lesson.folder}-lessons`);
  if (!counts) return { verdict: 'fail', detail: noReport(run), explain: run.output };
  const where = repoPath(lesson.lessonDir);
  if (counts.failed > 0) {
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
  if (await portAcceptsConnections(LESSON_PORT)) {
    say(yellow(`Port ${LESSON_PORT} is in use (a running npm run lesson:N?). Lesson suites may fail until you stop it.`));
  }
  const reportDir = mkdtempSync(path.join(os.tmpdir(), 'workshop-selftest-'));
  try {
    report('lesson table', lessonTable());
    report('typecheck', await typecheck());
    report('starter copies', starterCopies());
    report('given files', givenFiles());
    report('translations', translations());
    report('unit tests', await unitTests(reportDir));
    for (const lesson of availableLessons()) {
      report(`lesson ${lesson.number} solution`, await solutionPasses(lesson, reportDir));
      report(`lesson ${lesson.number} starter`, await starterFails(lesson, reportDir));
    }
  } finally {
    rmSync(reportDir, { recursive: true, force: true });
  }
  const passed = results.filter((verdict) => verdict === 'pass').length;
  const failed = results.filter((verdict) => verdict === 'fail').length;
  say();
  say(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();
