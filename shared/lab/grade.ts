/**
 * `npm run grade -- <workspace>...`: grade learner workspaces (clones of this repository with the
 * learner's edits) with this repository's tests, the instructor's copy. Learner code is untrusted.
 *
 *   1. The grader's files a run needs (tests, shared/) are frozen into a scratch folder once, and the
 *      checkout's files are fingerprinted.
 *   2. Each lesson's tests run once against the reference solution: the tests to award points for.
 *   3. Each workspace × lesson runs in its own sandbox (sandbox.ts), up to `--jobs` at a time, each with
 *      its own ports, state and time limit, so a hung lesson holds one slot, not the room.
 *   4. Each run is judged (grading/judge.ts); a run that forged results, broke out of its sandbox or
 *      changed the grader's files is marked `tampered` and scores 0.
 *   5. The table, `report.json` and `grades.csv` (grading/report.ts). `--shard i/n` grades a part of
 *      the room; `--merge` joins the parts' reports.
 *
 * Points come from `grading.json` (gradingConfig.ts). Exit code 0 whenever the grading ran.
 */
import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readGradingConfig, testPoints } from './gradingConfig.ts';
import { parseGradeArgs, type GradeOptions } from './grading/args.ts';
import { changedFiles, digest } from './grading/digests.ts';
import { cleanMessage, judge, sentinelProblems, type Plan } from './grading/judge.ts';
import {
  byName,
  closingWarnings,
  describeRun,
  formatTable,
  LEGEND,
  mergeReports,
  readReport,
  sum,
  writeReport,
  type GradedLesson,
  type GradedWorkspace,
  type GradeReport,
} from './grading/report.ts';
import { availableLessons, numberedFolders, repoPath, ROOT, type Lesson } from './lessons.ts';
import { bold, dim, green, LabError, red, say, sayNext, yellow } from './output.ts';
import { freezeGraderFiles, prepareSandbox, removeSandbox, runInSandbox } from './sandbox.ts';
import { normalize, readFolder } from './starters.ts';

export { formatCsv, formatTable, mergeReports, type GradeReport } from './grading/report.ts';

const ISOLATION =
  "a sandbox per run; test workers under Node's permission model; modules served only from the sandbox; sentinel tests; fingerprints of the grader's files";

interface PlannedLesson extends Plan {
  lesson: Lesson;
  title: string;
}

/** Runs `work` on every item, at most `jobs` at a time. */
async function pool<T>(items: T[], jobs: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
}

/** Workspace names for the table: the folder name, made unique in the order given. */
export function uniqueNames(workspaces: string[]): string[] {
  const seen = new Map<string, number>();
  return workspaces.map((workspace) => {
    const base = path.basename(path.resolve(workspace)) || 'workspace';
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    return count === 1 ? base : `${base}-${count}`;
  });
}

/** The workspaces of shard `index` of `count`: every count-th one of the room sorted by name. */
export function shardOf<T extends { name: string }>(room: T[], shard: GradeOptions['shard']): T[] {
  const sorted = [...room].sort(byName);
  return shard ? sorted.filter((_, position) => position % shard.count === shard.index - 1) : sorted;
}

/**
 * The grader's own files: what no run may change. Everything at the top of the checkout except
 * node_modules (protected by the permission model only), .git (but its hooks and config), the state
 * folder and the reports of other gradings; plus the points file and this grading's report folder.
 */
function checkoutPaths(options: GradeOptions, pointsFile: string): string[] {
  const top = readdirSync(ROOT).filter((name) => !['node_modules', '.git', '.lab'].includes(name) && !existsSync(path.join(ROOT, name, 'report.json')));
  const git = ['hooks', 'config'].map((name) => path.join(ROOT, '.git', name));
  return [...top.map((name) => path.join(ROOT, name)), ...git, pointsFile, options.outDir];
}

function inside(file: string, folder: string): boolean {
  const relative = path.relative(folder, file);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** The suite's tests, from a run against the reference solution (a failing solution is a warning). */
async function listTests(lesson: Lesson, frozen: string, scratch: string, timeLimitSeconds: number, warnings: string[]): Promise<string[]> {
  const sandbox = prepareSandbox(path.join(scratch, `list-${lesson.folder}`), frozen, lesson, lesson.solutionDir);
  try {
    const run = await runInSandbox(sandbox, timeLimitSeconds * 1000);
    const tests = run.events.tests.filter((test) => !sandbox.sentinels.includes(test.fullName));
    if (tests.length === 0) {
      const why = run.timedOut ? `it did not finish within ${timeLimitSeconds} s` : run.events.errors[0]?.message || run.output.trim().split('\n').at(-1);
      throw new LabError(`Could not collect the tests of lesson ${lesson.number} from a run against solutions/${lesson.folder}: ${why}`);
    }
    const failed = tests.filter((test) => test.status !== 'passed').length;
    if (failed > 0 || run.timedOut) {
      warnings.push(`the reference solution of lesson ${lesson.number} does not pass ${failed} of its ${tests.length} tests here (${run.timedOut ? 'time limit reached' : 'run npm test'})`);
    }
    return tests.map((test) => test.fullName);
  } finally {
    removeSandbox(sandbox);
  }
}

/** Where a workspace keeps its lessons: `<ws>/lessons`, or the folder itself when it holds NN-* lessons. */
function lessonsRootOf(workspace: string): string | undefined {
  if (!existsSync(workspace) || !statSync(workspace).isDirectory()) return undefined;
  const lessons = path.join(workspace, 'lessons');
  if (existsSync(lessons)) return lessons;
  return numberedFolders(workspace).length > 0 ? workspace : undefined;
}

function missingLesson(plan: PlannedLesson, why: string): GradedLesson {
  return {
    number: plan.number,
    folder: plan.folder,
    status: 'missing',
    message: why,
    points: 0,
    maxPoints: sum(plan.tests.map((test) => test.points)),
    durationMs: 0,
    modifiedOwnFiles: [],
    tampering: [],
    tests: plan.tests.map((test) => ({ fullName: test.fullName, status: 'not-run', message: why, points: 0, maxPoints: test.points })),
  };
}

interface Run {
  workspace: { name: string; path: string };
  plan: PlannedLesson;
  lessonsRoot: string;
  /** Reasons found by checks outside the run itself (the checkout changed while it ran). */
  tampering: string[];
  result?: GradedLesson;
}

/**
 * Grades every workspace in `options` (each lesson in its own sandbox, `options.jobs` at a time) and
 * returns the report; writing it is the caller's choice (`writeReport`).
 */
export async function grade(options: GradeOptions): Promise<GradeReport> {
  const config = readGradingConfig(options.pointsFile);
  const timeLimitSeconds = options.timeLimitSeconds ?? config.timeLimitSeconds;
  const lessons = availableLessons().filter((lesson) => !options.only || options.only.includes(lesson.number));
  if (lessons.length === 0) throw new LabError('There are no lessons to grade with these options.');
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'lab-grade-'));
  const warnings: string[] = [];
  const names = uniqueNames(options.workspaces);
  const room = shardOf(options.workspaces.map((workspace, index) => ({ name: names[index]!, path: path.resolve(workspace) })), options.shard);
  const checkout = () => digest(checkoutPaths(options, options.pointsFile ?? path.join(ROOT, 'grading.json')));
  const protectedRoots = [ROOT, options.outDir, scratch, ...room.map((workspace) => workspace.path)];
  try {
    const frozen = freezeGraderFiles(path.join(scratch, 'frozen'), lessons);
    let baseline = checkout();

    const plans: PlannedLesson[] = [];
    say(dim(`Collecting the tests of ${lessons.length} lesson(s) from runs against the reference solutions…`));
    await pool(lessons, options.jobs, async (lesson) => {
      const tests = await listTests(lesson, frozen, scratch, timeLimitSeconds, warnings);
      const allocation = testPoints(config, lesson.number, tests);
      warnings.push(...allocation.unknown.map((name) => `${config.file}: lesson ${lesson.number} has no test named "${name}"`));
      plans.push({ lesson, number: lesson.number, folder: lesson.folder, title: lesson.title, tests: tests.map((fullName) => ({ fullName, points: allocation.points.get(fullName) ?? 0 })) });
    });
    plans.sort((a, b) => a.number - b.number);

    const runs: Run[] = [];
    const results = new Map<string, GradedLesson[]>();
    const problems = new Map<string, string>();
    for (const workspace of room) {
      const lessonsRoot = lessonsRootOf(workspace.path);
      const problem = !existsSync(workspace.path) ? 'the folder does not exist' : lessonsRoot === undefined ? 'not a workspace: it has no lessons/ folder' : undefined;
      if (problem) problems.set(workspace.name, problem);
      results.set(workspace.name, []);
      for (const plan of plans) {
        const source = lessonsRoot && path.join(lessonsRoot, plan.folder);
        if (!source || !existsSync(source)) results.get(workspace.name)!.push(missingLesson(plan, problem ?? `${plan.folder} is not in this workspace`));
        else runs.push({ workspace, plan, lessonsRoot: lessonsRoot!, tampering: [] });
      }
    }

    say(dim(`Grading ${room.length} workspace(s) × ${plans.length} lesson(s): ${runs.length} run(s), ${options.jobs} at a time…`));
    const active = new Set<Run>();
    let index = 0;
    await pool(runs, options.jobs, async (run) => {
      const id = String(index++);
      active.add(run);
      const graded = await gradeLesson(run, path.join(scratch, 'runs', id), frozen, timeLimitSeconds, protectedRoots, async () => {
        // The checkout, compared after every run: a change is blamed on every run that was under way.
        active.delete(run);
        const now = checkout();
        const changed = changedFiles(baseline, now);
        if (changed.length > 0) {
          const reason = `the grader's files changed while it ran (${changed.slice(0, 3).map((file) => repoPath(file)).join(', ')})`;
          for (const suspect of [run, ...active]) suspect.tampering.push(reason);
          warnings.push(`${reason}; restore them (git status, git checkout) and grade the workspaces flagged with it again, with --jobs 1 to tell them apart`);
          baseline = now;
        }
      });
      run.result = graded;
      const paint = graded.status === 'passed' ? green : graded.status === 'failed' ? yellow : red;
      say(`${bold(run.workspace.name)} lesson ${run.plan.number}: ${paint(describeRun(graded))} ${dim(`(${(graded.durationMs / 1000).toFixed(1)} s)`)}`);
    });

    const workspaces: GradedWorkspace[] = room.map((workspace) => {
      const lessonsOf = [...results.get(workspace.name)!, ...runs.filter((run) => run.workspace === workspace).map((run) => run.result!)].sort((a, b) => a.number - b.number);
      const problem = problems.get(workspace.name);
      return {
        name: workspace.name,
        path: workspace.path,
        ...(problem ? { problem } : {}),
        points: sum(lessonsOf.map((lesson) => lesson.points)),
        maxPoints: sum(lessonsOf.map((lesson) => lesson.maxPoints)),
        lessons: lessonsOf,
      };
    });
    const report: GradeReport = {
      gradedAt: new Date().toISOString(),
      pointsFile: config.file,
      timeLimitSeconds,
      isolation: ISOLATION,
      ...(options.shard ? { shard: options.shard } : {}),
      lessons: plans.map(({ number, folder, title, tests }) => ({ number, folder, title, maxPoints: sum(tests.map((test) => test.points)), tests })),
      workspaces,
      warnings,
    };
    writeReport(report, options.outDir);
    return report;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** One workspace × lesson in a fresh sandbox; `finished` runs as soon as the tests have stopped. */
async function gradeLesson(
  run: Run,
  dir: string,
  frozen: string,
  timeLimitSeconds: number,
  protectedRoots: string[],
  finished: () => Promise<void>,
): Promise<GradedLesson> {
  const { plan, lessonsRoot } = run;
  const source = path.join(lessonsRoot, plan.folder);
  const sandbox = prepareSandbox(dir, frozen, plan.lesson, source);
  try {
    const before = readFolder(source);
    const graderBefore = digest(sandbox.graderPaths);
    const started = Date.now();
    const result = await runInSandbox(sandbox, timeLimitSeconds * 1000);
    const durationMs = Date.now() - started;
    await finished();
    const after = readFolder(sandbox.lessonDir);
    const modifiedOwnFiles = [...before.keys()].filter((name) => after.get(name) === undefined || normalize(after.get(name)!) !== normalize(before.get(name)!));

    // Messages name files of the sandbox, which is about to go: name the submission's files instead.
    const replacements: Array<[string, string]> = [];
    for (const root of new Set([safeRealpath(sandbox.root), sandbox.root])) {
      replacements.push([path.join(root, 'lessons'), lessonsRoot], [root, '(grading sandbox)']);
    }
    const graderChanged = changedFiles(graderBefore, digest(sandbox.graderPaths)).map((file) => path.relative(sandbox.root, file).split(path.sep).join('/'));
    // Refused accesses that matter: the grader's files, other runs, other workspaces, and the test files,
    // config and guard of this very sandbox (a lesson may well probe other paths of its own folder).
    const graderFiles = sandbox.graderPaths.filter((file) => !/\.json$/.test(file));
    const refused = result.refusedAccess.filter((access) =>
      inside(access.resource, dir)
        ? graderFiles.some((file) => inside(access.resource, file))
        : protectedRoots.some((root) => inside(access.resource, root)),
    );
    const tampering = [
      ...run.tampering,
      ...sentinelProblems(result, sandbox.sentinels, plan),
      ...(graderChanged.length > 0 ? [`it changed the grader's files in its sandbox (${graderChanged.slice(0, 3).join(', ')})`] : []),
      ...result.refusedModules.map((file) => `it asked to load ${file}, outside its sandbox (refused)`),
      ...[...new Set(refused.map((access) => `it tried to ${access.permission === 'FileSystemWrite' ? 'write' : 'read'} ${access.resource}${inside(access.resource, dir) ? ' (a grader file)' : ', outside its sandbox'} (refused)`))],
    ];
    const clean = (text: string) => cleanMessage(text, replacements);
    const verdict = judge(plan, result, timeLimitSeconds, tampering.map(clean), clean);
    return { ...verdict, durationMs, modifiedOwnFiles };
  } finally {
    removeSandbox(sandbox);
  }
}

function safeRealpath(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

/** Prints a report: the table, its legend, the warnings, and where the files are. */
function printReport(report: GradeReport, outDir: string): void {
  say();
  const [header, rule, ...rows] = formatTable(report);
  say(bold(header!));
  say(dim(rule!));
  for (const row of rows) say(row);
  say();
  for (const line of LEGEND) say(dim(line));
  for (const warning of closingWarnings(report)) say(yellow(warning.startsWith('  ') ? warning : `⚠ ${warning}`));
  say();
  sayNext('Written:', [
    [path.join(outDir, 'report.json'), 'per workspace, lesson and test: status, message, points'],
    [path.join(outDir, 'grades.csv'), 'one row per workspace, for a gradebook'],
  ]);
}

/** `grade [options] <workspace>...` and `grade --merge <report>...` */
export async function gradeCommand(argv: string[]): Promise<number> {
  const command = parseGradeArgs(argv);
  if (command.kind === 'merge') {
    const report = mergeReports(command.reports.map(readReport));
    writeReport(report, command.outDir);
    say(bold(`Merged ${command.reports.length} report(s): ${report.workspaces.length} workspace(s)`));
    printReport(report, command.outDir);
    return 0;
  }
  const { options } = command;
  const shard = options.shard ? `, shard ${options.shard.index}/${options.shard.count}` : '';
  say(bold(`Grading ${options.workspaces.length} workspace(s)${shard}`) + dim(` with the tests of ${ROOT}, ${options.jobs} run(s) at a time`));
  const report = await grade(options);
  printReport(report, options.outDir);
  return 0;
}
