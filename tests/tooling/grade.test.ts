/**
 * `npm run grade` on temporary workspaces: one with the solution copied in, one untouched, one that
 * hangs, one whose code throws at import, one that deletes its own file, and a folder that is not a
 * workspace. The grader is run from a temporary copy of this repository with lesson 1 only.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GradeReport } from '../../shared/lab/grade.ts';
import { LESSON_1, makeSubmission, makeWorkspace, removeWorkspaces, runCli, type CliResult } from './workspace.ts';

afterAll(removeWorkspaces);

const TIME_LIMIT_S = 8;

/** Every file under `dir` with a hash of its content: proof that grading wrote nothing into a submission. */
function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (current: string) => {
    for (const name of readdirSync(current)) {
      const full = path.join(current, name);
      if (statSync(full).isDirectory()) walk(full);
      else out[path.relative(dir, full)] = createHash('sha256').update(readFileSync(full)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

function edit(ws: string, change: (source: string) => string): void {
  const file = path.join(ws, 'lessons', LESSON_1, 'server.ts');
  writeFileSync(file, change(readFileSync(file, 'utf8')));
}

let result: CliResult;
let report: GradeReport;
let csv: string;
let seconds: number;
const workspaces: Record<string, string> = {};
const before: Record<string, Record<string, string>> = {};

beforeAll(async () => {
  const instructor = makeWorkspace();
  workspaces.solved = makeSubmission('solved', 'solutions');
  workspaces.untouched = makeSubmission('untouched', 'lessons');
  workspaces.hangs = makeSubmission('hangs', 'solutions');
  // A loop at import blocks the test worker for good: only the grader's time limit ends it.
  edit(workspaces.hangs, (source) => `${source}\nwhile (Date.now() > 0) {}\n`);
  workspaces.throws = makeSubmission('throws', 'solutions');
  edit(workspaces.throws, (source) => `${source}\nthrow new Error('broken on purpose');\n`);
  workspaces.deletes = makeSubmission('deletes', 'solutions');
  edit(
    workspaces.deletes,
    (source) => `import { rmSync } from 'node:fs';\nrmSync(import.meta.filename, { force: true });\n${source}`,
  );
  workspaces.empty = path.join(path.dirname(workspaces.solved), 'not-a-workspace');
  for (const [name, ws] of Object.entries(workspaces)) if (name !== 'empty') before[name] = fingerprint(ws);

  const out = path.join(instructor, 'grade-report');
  const started = Date.now();
  result = await runCli(
    instructor,
    ['grade', '--time-limit', String(TIME_LIMIT_S), '--out', out, ...Object.values(workspaces)],
    180_000,
  );
  seconds = (Date.now() - started) / 1000;
  report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as GradeReport;
  csv = readFileSync(path.join(out, 'grades.csv'), 'utf8');
}, 200_000);

function lesson(name: string) {
  const workspace = report.workspaces.find((candidate) => candidate.name === name);
  expect(workspace, `no workspace "${name}" in the report`).toBeDefined();
  return workspace!.lessons[0]!;
}

describe('grade', () => {
  it('exits 0 and prints a table of workspaces × lessons with points, within its time limits', () => {
    expect(result.code, result.all).toBe(0);
    const table = result.stdout.split('\n');
    expect(table.find((line) => /^workspace\s+lesson 1\s+total$/.test(line)), result.stdout).toBeDefined();
    expect(table.find((line) => /^solved\s+10\/10\s+10\/10$/.test(line)), result.stdout).toBeDefined();
    expect(table.find((line) => /^untouched\s+0\/10\s+0\/10$/.test(line)), result.stdout).toBeDefined();
    expect(table.find((line) => /^hangs\s+0\/10 hung\s+0\/10$/.test(line)), result.stdout).toBeDefined();
    expect(table.find((line) => /^throws\s+0\/10 throws at import\s+0\/10$/.test(line)), result.stdout).toBeDefined();
    expect(table.find((line) => /^not-a-workspace\s+0\/10 missing\s+0\/10$/.test(line)), result.stdout).toBeDefined();
    // One hang costs one time limit, not more; everything else takes seconds.
    expect(seconds).toBeLessThan(TIME_LIMIT_S + 60);
  });

  it('writes a JSON report with every test of every lesson: status, message, points', () => {
    expect(report.lessons).toEqual([expect.objectContaining({ number: 1, maxPoints: 10 })]);
    const solved = lesson('solved');
    expect(solved).toMatchObject({ status: 'passed', points: 10, maxPoints: 10, modifiedOwnFiles: [] });
    expect(solved.tests).toHaveLength(9);
    expect(solved.tests.every((test) => test.status === 'passed' && test.message === '')).toBe(true);

    const untouched = lesson('untouched');
    expect(untouched.status).toBe('failed');
    // Messages name the submission's own file, not the scratch copy it was graded in.
    expect(untouched.message).toContain(`TODO 1.4 in ${path.join(workspaces.untouched!, 'lessons', LESSON_1, 'server.ts')}`);
    // The Host check passes from the start; grading.json gives it 0 points.
    const host = untouched.tests.find((test) => test.fullName.includes('Host header'))!;
    expect(host).toMatchObject({ status: 'passed', points: 0, maxPoints: 0 });
    const failed = untouched.tests.filter((test) => test.status === 'failed');
    expect(failed).toHaveLength(8);
    expect(failed.every((test) => test.points === 0 && test.maxPoints === 1.25 && /TODO 1\.\d/.test(test.message))).toBe(true);

    expect(lesson('hangs')).toMatchObject({ status: 'timeout', points: 0 });
    expect(lesson('hangs').message).toContain(`time limit of ${TIME_LIMIT_S} s`);
    expect(lesson('hangs').tests.every((test) => test.status === 'not-run')).toBe(true);

    expect(lesson('throws')).toMatchObject({ status: 'import-error', points: 0 });
    expect(lesson('throws').message).toMatch(/^Could not load .*server\.ts: broken on purpose/);

    expect(lesson('not-a-workspace')).toMatchObject({ status: 'missing', points: 0 });
    expect(report.workspaces.find((ws) => ws.name === 'not-a-workspace')!.problem).toBe('the folder does not exist');
  });

  it('flags a submission that deletes its own files, and never writes into any submission', () => {
    expect(lesson('deletes').modifiedOwnFiles).toEqual(['server.ts']);
    expect(result.stdout).toMatch(/^deletes\s+[\d.]+\/10 !files\s+[\d.]+\/10$/m);
    for (const [name, prints] of Object.entries(before)) {
      expect(fingerprint(workspaces[name]!), `grading changed the submission "${name}"`).toEqual(prints);
    }
  });

  it('writes a CSV for gradebooks, one row per workspace', () => {
    const rows = csv.trim().split('\r\n');
    expect(rows[0]).toBe('workspace,lesson 1,total,max,notes');
    expect(rows).toContain('solved,10,10,10,');
    expect(rows).toContain('hangs,0,0,10,lesson 1: hung');
    expect(rows).toContain('throws,0,0,10,lesson 1: throws at import');
    expect(rows.find((row) => row.startsWith('deletes,'))).toMatch(/^deletes,[\d.]+,[\d.]+,10,lesson 1: changed its own files$/);
    expect(rows).toHaveLength(7);
  });
});
