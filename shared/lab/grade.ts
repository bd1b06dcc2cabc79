/**
 * `npm run grade -- <workspace>...`: grade learner workspaces (clones of this repository with the
 * learner's edits) with this repository's tests, the instructor's copy.
 *
 * For each workspace and lesson, the lesson's suite runs in a child process with a time limit
 * (LAB_TARGET points the tests at the code under grading). Learner code is untrusted, so it never runs
 * in the submission itself: each lesson is graded in a scratch copy in the temp folder that holds the
 * workspace's `lessons/` folder, this repository's `shared/` and its `node_modules` (a symlink, a
 * junction on Windows). The submission is only read, a lesson that deletes or rewrites its own files
 * harms the copy and is flagged, and every lesson is graded with the same dependencies and shared code
 * the tests were written against. State the lesson code keeps (LAB_STATE_DIR) stays in the copy too.
 *
 * Points come from `grading.json` (see gradingConfig.ts). Results: a table on the terminal, and
 * `grade-report/report.json` (per workspace, per lesson, per test: status, message, points) plus
 * `grade-report/grades.csv` for gradebooks. A lesson that hangs, crashes or throws at import is marked
 * as such; the other lessons and workspaces are still graded. Exit code 0 whenever the grading ran.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { availableLessons, numberedFolders, repoPath, ROOT, type Lesson } from './lessons.ts';
import { readGradingConfig, testPoints } from './gradingConfig.ts';
import { bold, dim, green, LabError, red, say, sayNext, yellow } from './output.ts';
import { normalize, readFolder } from './starters.ts';
import { cleanTestEnv, runSuite, type SuiteRun, type TestEvent } from './suiteRun.ts';

export type LessonStatus = 'passed' | 'failed' | 'timeout' | 'crashed' | 'import-error' | 'missing';
export type GradedTestStatus = 'passed' | 'failed' | 'skipped' | 'not-run';

export interface GradedTest {
  fullName: string;
  status: GradedTestStatus;
  /** The learner-facing message of a failed test; why it did not run otherwise. */
  message: string;
  points: number;
  maxPoints: number;
}

export interface GradedLesson {
  number: number;
  folder: string;
  status: LessonStatus;
  /** One line: what happened (the first failure, the time limit, the import error…). */
  message: string;
  points: number;
  maxPoints: number;
  durationMs: number;
  /** Files of the lesson that its code deleted or changed while the tests ran (in the scratch copy). */
  modifiedOwnFiles: string[];
  tests: GradedTest[];
}

export interface GradedWorkspace {
  name: string;
  path: string;
  /** Set when the folder is not a workspace at all. */
  problem?: string;
  points: number;
  maxPoints: number;
  lessons: GradedLesson[];
}

export interface GradeReport {
  gradedAt: string;
  pointsFile: string;
  timeLimitSeconds: number;
  lessons: Array<{ number: number; folder: string; title: string; maxPoints: number; tests: Array<{ fullName: string; points: number }> }>;
  workspaces: GradedWorkspace[];
  /** Names in the points file that match no test (a renamed test, a typo). */
  warnings: string[];
}

export interface GradeOptions {
  workspaces: string[];
  outDir: string;
  timeLimitSeconds?: number;
  pointsFile?: string;
  /** Only these lesson numbers (default: every lesson of this repository). */
  only?: number[];
}

/**
 * The suite's tests, from a run against the reference solutions. (`vitest list` would not do: it shows
 * `it.each` tests with their name templates unexpanded.) A solution that fails a test is a warning.
 */
async function listTests(lesson: Lesson, scratch: string, timeLimitSeconds: number, warnings: string[]): Promise<string[]> {
  const state = path.join(scratch, `${lesson.folder}-solutions`);
  mkdirSync(state, { recursive: true });
  const run = await runSuite({
    testFile: repoPath(lesson.testFile),
    target: 'solutions',
    eventsFile: path.join(state, 'events.ndjson'),
    mode: 'isolated',
    timeoutMs: timeLimitSeconds * 1000,
    env: cleanTestEnv({ LAB_STATE_DIR: state }),
  });
  const names = run.events.tests.map((test) => test.fullName);
  if (names.length === 0) {
    const why = run.timedOut ? `it did not finish within ${timeLimitSeconds} s` : run.events.errors[0]?.message || lastLine(run.output);
    throw new LabError(`Could not collect the tests of lesson ${lesson.number} from a run against solutions/${lesson.folder}: ${why}`);
  }
  const failed = run.events.tests.filter((test) => test.status !== 'passed').length;
  if (failed > 0 || run.timedOut) {
    warnings.push(`the reference solution of lesson ${lesson.number} does not pass ${failed} of its ${names.length} tests here (${run.timedOut ? 'time limit reached' : 'run npm test'})`);
  }
  return names;
}

export async function grade(options: GradeOptions): Promise<GradeReport> {
  const config = readGradingConfig(options.pointsFile);
  const timeLimitSeconds = options.timeLimitSeconds ?? config.timeLimitSeconds;
  const lessons = availableLessons().filter((lesson) => !options.only || options.only.includes(lesson.number));
  if (lessons.length === 0) throw new LabError('There are no lessons to grade with these options.');
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'lab-grade-'));
  const warnings: string[] = [];
  try {
    const plans = [];
    for (const lesson of lessons) {
      say(dim(`Collecting the tests of lesson ${lesson.number} (a run against the reference solution)…`));
      const names = await listTests(lesson, scratch, timeLimitSeconds, warnings);
      const allocation = testPoints(config, lesson.number, names);
      warnings.push(...allocation.unknown.map((name) => `${config.file}: lesson ${lesson.number} has no test named "${name}"`));
      plans.push({ lesson, tests: names.map((fullName) => ({ fullName, points: allocation.points.get(fullName) ?? 0 })) });
    }
    const workspaces: GradedWorkspace[] = [];
    const names = uniqueNames(options.workspaces);
    for (const [index, workspace] of options.workspaces.entries()) {
      const name = names[index]!;
      say(`${bold(name)} ${dim(path.resolve(workspace))}`);
      workspaces.push(await gradeWorkspace(name, path.resolve(workspace), plans, scratch, timeLimitSeconds));
    }
    const report: GradeReport = {
      gradedAt: new Date().toISOString(),
      pointsFile: config.file,
      timeLimitSeconds,
      lessons: plans.map(({ lesson, tests }) => ({
        number: lesson.number,
        folder: lesson.folder,
        title: lesson.title,
        maxPoints: round(tests.reduce((sum, test) => sum + test.points, 0)),
        tests,
      })),
      workspaces,
      warnings,
    };
    writeReport(report, options.outDir);
    return report;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

interface Plan {
  lesson: Lesson;
  tests: Array<{ fullName: string; points: number }>;
}

/** Where a workspace keeps its lessons: `<ws>/lessons`, or the folder itself when it holds NN-* lessons. */
function lessonsRootOf(workspace: string): string | undefined {
  if (!existsSync(workspace) || !statSync(workspace).isDirectory()) return undefined;
  const lessons = path.join(workspace, 'lessons');
  if (existsSync(lessons)) return lessons;
  return numberedFolders(workspace).length > 0 ? workspace : undefined;
}

async function gradeWorkspace(name: string, workspace: string, plans: Plan[], scratch: string, timeLimitSeconds: number): Promise<GradedWorkspace> {
  const lessonsRoot = lessonsRootOf(workspace);
  const problem = !existsSync(workspace)
    ? 'the folder does not exist'
    : lessonsRoot === undefined
      ? 'not a workspace: it has no lessons/ folder'
      : undefined;
  const graded: GradedLesson[] = [];
  for (const plan of plans) {
    const source = lessonsRoot ? path.join(lessonsRoot, plan.lesson.folder) : undefined;
    let result: GradedLesson;
    if (!source || !existsSync(source)) {
      result = missingLesson(plan, problem ?? `${plan.lesson.folder} is not in this workspace`);
    } else {
      result = await gradeLesson(plan, lessonsRoot!, source, path.join(scratch, `${name}-${plan.lesson.folder}`), timeLimitSeconds);
    }
    say(`  lesson ${plan.lesson.number}: ${describe(result)}`);
    graded.push(result);
  }
  return {
    name,
    path: workspace,
    ...(problem ? { problem } : {}),
    points: round(graded.reduce((sum, lesson) => sum + lesson.points, 0)),
    maxPoints: round(graded.reduce((sum, lesson) => sum + lesson.maxPoints, 0)),
    lessons: graded,
  };
}

function missingLesson(plan: Plan, why: string): GradedLesson {
  return {
    number: plan.lesson.number,
    folder: plan.lesson.folder,
    status: 'missing',
    message: why,
    points: 0,
    maxPoints: round(plan.tests.reduce((sum, test) => sum + test.points, 0)),
    durationMs: 0,
    modifiedOwnFiles: [],
    tests: plan.tests.map((test) => ({ fullName: test.fullName, status: 'not-run', message: why, points: 0, maxPoints: test.points })),
  };
}

/** The scratch copy a lesson is graded in (and mutants run in): the workspace's lessons, our shared code and dependencies. */
export function prepareSandbox(sandbox: string, lessonsRoot: string): string {
  mkdirSync(sandbox, { recursive: true });
  const skip = (source: string) => !/[\\/](node_modules|\.git)$/.test(source);
  cpSync(lessonsRoot, path.join(sandbox, 'lessons'), { recursive: true, filter: skip, dereference: false });
  cpSync(path.join(ROOT, 'shared'), path.join(sandbox, 'shared'), { recursive: true, filter: skip });
  for (const file of ['package.json', 'tsconfig.json']) {
    if (existsSync(path.join(ROOT, file))) cpSync(path.join(ROOT, file), path.join(sandbox, file));
  }
  // A junction needs no special rights on Windows; elsewhere the type is ignored.
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(sandbox, 'node_modules'), 'junction');
  mkdirSync(path.join(sandbox, '.lab'));
  return sandbox;
}

async function gradeLesson(plan: Plan, lessonsRoot: string, source: string, sandbox: string, timeLimitSeconds: number): Promise<GradedLesson> {
  const { lesson } = plan;
  prepareSandbox(sandbox, lessonsRoot);
  const before = readFolder(source);
  const started = Date.now();
  const run = await runSuite({
    testFile: repoPath(lesson.testFile),
    target: sandbox,
    eventsFile: path.join(sandbox, '.lab', 'events.ndjson'),
    mode: 'isolated',
    timeoutMs: timeLimitSeconds * 1000,
    env: cleanTestEnv({ LAB_STATE_DIR: path.join(sandbox, '.lab') }),
  });
  const durationMs = Date.now() - started;
  const after = readFolder(path.join(sandbox, 'lessons', lesson.folder));
  const modifiedOwnFiles = [...before.keys()].filter((name) => after.get(name) === undefined || normalize(after.get(name)!) !== normalize(before.get(name)!));
  const result = judge(plan, run, timeLimitSeconds);
  // The copy is not needed any more; the next lesson gets a fresh one.
  rmSync(sandbox, { recursive: true, force: true });
  // Messages name files of the scratch copy, which is gone: name the submission's files instead.
  const relabel = (text: string) => text.split(path.join(sandbox, 'lessons')).join(lessonsRoot);
  return {
    ...result,
    message: relabel(result.message),
    tests: result.tests.map((test) => ({ ...test, message: relabel(test.message) })),
    durationMs,
    modifiedOwnFiles,
  };
}

/** Status, points and per-test results from one run. */
export function judge(plan: Plan, run: SuiteRun, timeLimitSeconds: number): Omit<GradedLesson, 'durationMs' | 'modifiedOwnFiles'> {
  const { events } = run;
  const byName = new Map<string, TestEvent>(events.tests.map((test) => [test.fullName, test]));
  const failures = events.tests.filter((test) => test.status === 'failed');
  const passedCount = events.tests.filter((test) => test.status === 'passed').length;
  const importError = failures.find((test) => /^Could not load /.test(test.message));

  let status: LessonStatus;
  let message: string;
  if (run.timedOut) {
    status = 'timeout';
    message = `hung: stopped after the time limit of ${timeLimitSeconds} s (${events.tests.length} of ${plan.tests.length} tests had finished)`;
  } else if (importError && passedCount === 0) {
    status = 'import-error';
    message = importError.message;
  } else if (!events.ended || (events.tests.length === 0 && events.errors.length > 0)) {
    status = 'crashed';
    const why = events.errors[0]?.message || lastLine(run.output) || `vitest exited with code ${run.code}`;
    message = `crashed: ${why}`;
  } else if (failures.length === 0 && events.errors.length === 0 && events.tests.length > 0) {
    status = 'passed';
    message = 'every test passes';
  } else {
    status = 'failed';
    message = failures[0]?.message || events.errors[0]?.message || 'a test failed';
  }

  const notRun = status === 'timeout' ? 'not run: the time limit was reached' : status === 'crashed' ? 'not run: the test run crashed' : 'not run';
  const tests: GradedTest[] = plan.tests.map(({ fullName, points }) => {
    const event = byName.get(fullName);
    const testStatus: GradedTestStatus = !event ? 'not-run' : event.status === 'passed' ? 'passed' : event.status === 'failed' ? 'failed' : event.status === 'skipped' ? 'skipped' : 'not-run';
    return {
      fullName,
      status: testStatus,
      message: event?.status === 'failed' ? event.message : event ? '' : notRun,
      points: testStatus === 'passed' ? points : 0,
      maxPoints: points,
    };
  });
  return {
    number: plan.lesson.number,
    folder: plan.lesson.folder,
    status,
    message,
    points: round(tests.reduce((sum, test) => sum + test.points, 0)),
    maxPoints: round(tests.reduce((sum, test) => sum + test.maxPoints, 0)),
    tests,
  };
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter((line) => line.trim() !== '').at(-1)?.trim() ?? '';
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Workspace names for the table: the folder name, made unique. */
export function uniqueNames(workspaces: string[]): string[] {
  const seen = new Map<string, number>();
  return workspaces.map((workspace) => {
    const base = path.basename(path.resolve(workspace)) || 'workspace';
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    return count === 1 ? base : `${base}-${count}`;
  });
}

const STATUS_WORD: Record<LessonStatus, string> = {
  passed: 'passed',
  failed: 'failing tests',
  timeout: 'hung',
  crashed: 'crashed',
  'import-error': 'throws at import',
  missing: 'missing',
};

function describe(lesson: GradedLesson): string {
  const points = `${lesson.points}/${lesson.maxPoints}`;
  const tampered = lesson.modifiedOwnFiles.length > 0 ? ` · changed its own files: ${lesson.modifiedOwnFiles.join(', ')}` : '';
  const paint = lesson.status === 'passed' ? green : lesson.status === 'failed' ? yellow : red;
  const message = lesson.message.replace(/\s*\n\s*/g, ' ');
  return `${paint(points)} ${STATUS_WORD[lesson.status]}${lesson.status === 'passed' ? '' : dim(` · ${message}`)}${tampered}`;
}

/** The cell of the table: points, and a word when the lesson did not simply run. */
function cell(lesson: GradedLesson): string {
  const points = `${lesson.points}/${lesson.maxPoints}`;
  const flag = lesson.status === 'passed' || lesson.status === 'failed' ? '' : ` ${STATUS_WORD[lesson.status]}`;
  const tampered = lesson.modifiedOwnFiles.length > 0 ? ' !files' : '';
  return `${points}${flag}${tampered}`;
}

/** The workspaces × lessons table, as lines (plain text; the caller may colour it). */
export function formatTable(report: GradeReport): string[] {
  const header = ['workspace', ...report.lessons.map((lesson) => `lesson ${lesson.number}`), 'total'];
  const rows = report.workspaces.map((workspace) => [
    workspace.name,
    ...workspace.lessons.map(cell),
    `${workspace.points}/${workspace.maxPoints}`,
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) => row.map((text, column) => (column === 0 ? text.padEnd(widths[column]!) : text.padStart(widths[column]!))).join('  ');
  return [line(header), widths.map((width) => '─'.repeat(width)).join('  '), ...rows.map(line)];
}

/** One CSV field, quoted when it needs to be (RFC 4180). */
function csvField(value: string | number): string {
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function formatCsv(report: GradeReport): string {
  const header = ['workspace', ...report.lessons.map((lesson) => `lesson ${lesson.number}`), 'total', 'max', 'notes'];
  const rows = report.workspaces.map((workspace) => {
    const notes = [
      ...(workspace.problem ? [workspace.problem] : []),
      ...workspace.lessons
        .filter((lesson) => lesson.status !== 'passed' && lesson.status !== 'failed')
        .map((lesson) => `lesson ${lesson.number}: ${STATUS_WORD[lesson.status]}`),
      ...workspace.lessons.filter((lesson) => lesson.modifiedOwnFiles.length > 0).map((lesson) => `lesson ${lesson.number}: changed its own files`),
    ];
    return [workspace.name, ...workspace.lessons.map((lesson) => lesson.points), workspace.points, workspace.maxPoints, notes.join('; ')];
  });
  return [header, ...rows].map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}

function writeReport(report: GradeReport, outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(path.join(outDir, 'grades.csv'), formatCsv(report));
}

/** `grade [--out dir] [--time-limit s] [--points file] [--lessons 1,2] <workspace>...` */
export async function gradeCommand(argv: string[]): Promise<number> {
  const options = parseGradeArgs(argv);
  say(bold(`Grading ${options.workspaces.length} workspace(s)`) + dim(` with the tests of ${ROOT}`));
  const report = await grade(options);
  say();
  const [header, rule, ...rows] = formatTable(report);
  say(bold(header!));
  say(dim(rule!));
  for (const row of rows) say(row);
  say();
  say(dim('hung = stopped at the time limit · crashed = the test run died · throws at import = the lesson file cannot load ·'));
  say(dim('missing = no such lesson folder · !files = the code deleted or changed its own files (in a scratch copy; the submission is untouched)'));
  for (const warning of report.warnings) say(yellow(`⚠ ${warning}`));
  say();
  sayNext('Written:', [
    [path.join(options.outDir, 'report.json'), 'per workspace, lesson and test: status, message, points'],
    [path.join(options.outDir, 'grades.csv'), 'one row per workspace, for a gradebook'],
  ]);
  return 0;
}

export function parseGradeArgs(argv: string[]): GradeOptions {
  const workspaces: string[] = [];
  let outDir = path.resolve('grade-report');
  let timeLimitSeconds: number | undefined;
  let pointsFile: string | undefined;
  let only: number[] | undefined;
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index]!;
    const [flag, inline] = arg.startsWith('--') ? (arg.split(/=(.*)/s, 2) as [string, string | undefined]) : [arg, undefined];
    const value = () => {
      const next = inline ?? argv[++index];
      if (next === undefined) throw new LabError(`${flag} needs a value.`);
      return next;
    };
    if (flag === '--out') outDir = path.resolve(value());
    else if (flag === '--points') pointsFile = path.resolve(value());
    else if (flag === '--time-limit') {
      timeLimitSeconds = Number(value());
      if (!Number.isFinite(timeLimitSeconds) || timeLimitSeconds <= 0) throw new LabError('--time-limit needs a number of seconds, e.g. --time-limit 120.');
    } else if (flag === '--lessons') {
      only = value().split(',').map(Number);
      if (only.some((n) => !Number.isInteger(n))) throw new LabError('--lessons needs lesson numbers separated by commas, e.g. --lessons 1,2.');
    } else if (flag.startsWith('--')) throw new LabError(`Unknown option ${flag}. Usage: npm run grade -- [--out dir] [--time-limit seconds] [--points file] [--lessons 1,2] <workspace>...`);
    else workspaces.push(arg);
  }
  if (workspaces.length === 0) {
    throw new LabError('Name at least one workspace to grade: npm run grade -- ../alice ../bob (folders that are clones of this workshop).');
  }
  return { workspaces, outDir, timeLimitSeconds, pointsFile, only };
}
