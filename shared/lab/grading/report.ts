/**
 * The grade report: its shape (`report.json`), the table on the terminal, the CSV for gradebooks, and the
 * merge of shard reports into one.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LabError } from '../output.ts';

/** How one lesson's run ended; `tampered` and `import-error` score 0 whatever the tests said. */
export type LessonStatus = 'passed' | 'failed' | 'timeout' | 'crashed' | 'import-error' | 'missing' | 'tampered';
/** A test's outcome; `not-run` when the run stopped (time limit, crash) before the test finished. */
export type GradedTestStatus = 'passed' | 'failed' | 'skipped' | 'not-run';

/** One test of one lesson of one workspace. */
export interface GradedTest {
  fullName: string;
  status: GradedTestStatus;
  /** The learner-facing message of a failed test; why it did not run otherwise. */
  message: string;
  points: number;
  maxPoints: number;
}

/** One lesson of one workspace: its status, points and tests. */
export interface GradedLesson {
  number: number;
  folder: string;
  status: LessonStatus;
  /** One line: what happened (the first failure, the time limit, the import error, the tampering…). */
  message: string;
  points: number;
  maxPoints: number;
  durationMs: number;
  /** Files of the lesson that its code deleted or changed while the tests ran (in its sandbox). */
  modifiedOwnFiles: string[];
  /** Why the run is not trusted (empty when it is): such a lesson scores 0. */
  tampering: string[];
  tests: GradedTest[];
}

/** One learner's workspace, every lesson graded. */
export interface GradedWorkspace {
  name: string;
  path: string;
  /** Set when the folder is not a workspace at all. */
  problem?: string;
  points: number;
  maxPoints: number;
  lessons: GradedLesson[];
}

/** A lesson as graded in this report: its tests and their points. */
export interface LessonPlan {
  number: number;
  folder: string;
  title: string;
  maxPoints: number;
  tests: Array<{ fullName: string; points: number }>;
}

/** `report.json`: everything a grading run found, enough to rebuild the table and the CSV. */
export interface GradeReport {
  gradedAt: string;
  pointsFile: string;
  timeLimitSeconds: number;
  /** How runs were isolated, in one line (see the README, "For instructors"). */
  isolation: string;
  /** This report holds one shard of the room (`--shard 2/4`); absent for a whole room or a merge. */
  shard?: { index: number; count: number };
  lessons: LessonPlan[];
  /** Sorted by name, so that shards merged equal the room graded whole. */
  workspaces: GradedWorkspace[];
  /** Names in the points file that match no test, failing solutions, a changed checkout… */
  warnings: string[];
}

/** How each status reads in the table and the CSV. */
export const STATUS_WORD: Record<LessonStatus, string> = {
  passed: 'passed',
  failed: 'failing tests',
  timeout: 'hung',
  crashed: 'crashed',
  'import-error': 'throws at import',
  missing: 'missing',
  tampered: 'tampered',
};

/** What the words and marks of the table mean, for the lines under it. */
export const LEGEND = [
  'hung = stopped at the time limit · crashed = the test run died · throws at import = the lesson cannot load',
  'missing = no such lesson folder · tampered = the run broke out of its sandbox or forged its results: 0 points',
  '!files = the code deleted or changed its own lesson files while graded (in its sandbox copy; the',
  '         submission itself is never written): the points stand, but look at that code',
];

/** Points are kept to two decimals (a test may be worth a third of a point). */
export function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** The sum of points, rounded like `round`. */
export function sum(values: number[]): number {
  return round(values.reduce((total, value) => total + value, 0));
}

/** One line for the terminal as a run finishes. */
export function describeRun(lesson: GradedLesson): string {
  const points = `${lesson.points}/${lesson.maxPoints}`;
  const message = lesson.message.replace(/\s*\n\s*/g, ' ');
  const files = lesson.modifiedOwnFiles.length > 0 ? ` · changed its own files: ${lesson.modifiedOwnFiles.join(', ')}` : '';
  return `${points} ${STATUS_WORD[lesson.status]}${lesson.status === 'passed' ? '' : ` · ${message}`}${files}`;
}

/** The cell of the table: points, and a word when the lesson did not simply run. */
function cell(lesson: GradedLesson): string {
  const points = `${lesson.points}/${lesson.maxPoints}`;
  const flag = lesson.status === 'passed' || lesson.status === 'failed' ? '' : ` ${STATUS_WORD[lesson.status]}`;
  const files = lesson.modifiedOwnFiles.length > 0 ? ' !files' : '';
  return `${points}${flag}${files}`;
}

/** The workspaces × lessons table, as lines (plain text; the caller may colour it). */
export function formatTable(report: GradeReport): string[] {
  const header = ['workspace', ...report.lessons.map((lesson) => `lesson ${lesson.number}`), 'total'];
  const rows = report.workspaces.map((workspace) => [workspace.name, ...workspace.lessons.map(cell), `${workspace.points}/${workspace.maxPoints}`]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) => row.map((text, column) => (column === 0 ? text.padEnd(widths[column]!) : text.padStart(widths[column]!))).join('  ');
  return [line(header), widths.map((width) => '─'.repeat(width)).join('  '), ...rows.map(line)];
}

/** One CSV field, quoted when it needs to be (RFC 4180). */
function csvField(value: string | number): string {
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The report as CSV for a gradebook: one row per workspace, one column per lesson, then total, max and notes. */
export function formatCsv(report: GradeReport): string {
  const header = ['workspace', ...report.lessons.map((lesson) => `lesson ${lesson.number}`), 'total', 'max', 'notes'];
  const rows = report.workspaces.map((workspace) => {
    const notes = [
      ...(workspace.problem ? [workspace.problem] : []),
      ...workspace.lessons
        .filter((lesson) => lesson.status !== 'passed' && lesson.status !== 'failed')
        .map((lesson) => `lesson ${lesson.number}: ${STATUS_WORD[lesson.status]}${lesson.status === 'tampered' ? ` (${lesson.tampering[0]})` : ''}`),
      ...workspace.lessons.filter((lesson) => lesson.modifiedOwnFiles.length > 0).map((lesson) => `lesson ${lesson.number}: changed its own files`),
    ];
    return [workspace.name, ...workspace.lessons.map((lesson) => lesson.points), workspace.points, workspace.maxPoints, notes.join('; ')];
  });
  return [header, ...rows].map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** The warning lines that end the output: the report's own, then one per tampered run. */
export function closingWarnings(report: GradeReport): string[] {
  const tampered = report.workspaces.flatMap((workspace) =>
    workspace.lessons.filter((lesson) => lesson.status === 'tampered').map((lesson) => `${workspace.name}, lesson ${lesson.number}: ${lesson.tampering.join('; ')}`),
  );
  return [
    ...report.warnings,
    ...(tampered.length > 0 ? [`${tampered.length} run(s) marked tampered score 0; read their code before anything else:`, ...tampered.map((line) => `  ${line}`)] : []),
  ];
}

/** Writes `report.json` and `grades.csv` into `outDir` (created if missing). */
export function writeReport(report: GradeReport, outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(path.join(outDir, 'grades.csv'), formatCsv(report));
}

/** A report file, or the folder holding `report.json`. */
export function readReport(file: string): GradeReport {
  const resolved = existsSync(file) && statSync(file).isDirectory() ? path.join(file, 'report.json') : file;
  if (!existsSync(resolved)) throw new LabError(`There is no grade report at ${resolved}: name the report.json of each shard (or its folder).`);
  try {
    return JSON.parse(readFileSync(resolved, 'utf8')) as GradeReport;
  } catch (error) {
    throw new LabError(`${resolved} is not a grade report: ${(error as Error).message}.`);
  }
}

/** Workspaces in the order every report uses (plain code-point order, the same on every machine). */
export function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * One report from the reports of the shards of a room: every shard must have graded the same lessons
 * with the same points, and no workspace may appear twice.
 */
export function mergeReports(reports: GradeReport[]): GradeReport {
  if (reports.length === 0) throw new LabError('Name the report of each shard to merge.');
  const [first] = reports as [GradeReport, ...GradeReport[]];
  const plan = JSON.stringify(first.lessons);
  const warnings = new Set<string>();
  const seen = new Set<string>();
  for (const report of reports) {
    if (JSON.stringify(report.lessons) !== plan || report.pointsFile !== first.pointsFile || report.timeLimitSeconds !== first.timeLimitSeconds) {
      throw new LabError('These reports graded different lessons, points or time limits: grade every shard with the same checkout and options.');
    }
    for (const workspace of report.workspaces) {
      if (seen.has(workspace.name)) throw new LabError(`The workspace "${workspace.name}" is in more than one report: were two reports of the same shard named?`);
      seen.add(workspace.name);
    }
    for (const warning of report.warnings) warnings.add(warning);
  }
  const shards = reports.map((report) => report.shard).filter((shard) => shard !== undefined);
  const count = shards[0]?.count;
  if (count !== undefined) {
    const missing = Array.from({ length: count }, (_, index) => index + 1).filter((index) => !shards.some((shard) => shard.index === index));
    if (missing.length > 0) warnings.add(`the merge is missing shard(s) ${missing.map((index) => `${index}/${count}`).join(', ')}: their workspaces are not in this report`);
  }
  return {
    gradedAt: reports.map((report) => report.gradedAt).sort().at(-1)!,
    pointsFile: first.pointsFile,
    timeLimitSeconds: first.timeLimitSeconds,
    isolation: first.isolation,
    lessons: first.lessons,
    workspaces: reports.flatMap((report) => report.workspaces).sort(byName),
    warnings: [...warnings],
  };
}
