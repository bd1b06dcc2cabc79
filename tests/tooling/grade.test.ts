/**
 * `npm run grade` on a hostile room, as an instructor would grade it, from a temporary copy of this
 * repository with lesson 1 only. Honest workspaces: one solved, one untouched. Broken ones: a lesson that
 * hangs, one that throws at import, one that deletes its own file, a folder that is not a workspace.
 * Dishonest ones: a lesson that rewrites the grader's files, one that reads the solutions and the tests,
 * one that imports the solution, one that forges its results inside the test worker. Then part of the room
 * in two shards, merged, must give those workspaces exactly what grading the room whole gave them.
 *
 * Time limits are generous: on a shared machine a passing lesson can take many seconds, and must never be
 * mistaken for one that hangs.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GradeReport } from '../../shared/lab/grading/report.ts';
import { LESSON_1, makeSubmission, makeWorkspace, removeWorkspaces, runCli, type CliResult } from './workspace.ts';

afterAll(removeWorkspaces);

/**
 * Per lesson: the hanging lesson costs this much of one slot. Lesson 1 passes in a few seconds even
 * with three gradings at once on two cores, so 30 s cannot be mistaken for a hang.
 */
const TIME_LIMIT_S = 30;

/** Every file under `dir` with a hash of its content: proof that grading wrote nothing there. */
function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (current: string) => {
    for (const name of readdirSync(current)) {
      if (name === 'node_modules') continue;
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

/** Code appended to a lesson file; each attempt is caught, so the lesson still loads if it is refused. */
function attempt(code: string): string {
  return `\ntry {\n${code}\n} catch {}\n`;
}

let instructor: string;
let out: string;
let result: CliResult;
let report: GradeReport;
let csv: string;
let checkoutBefore: Record<string, string>;
const workspaces: Record<string, string> = {};
const before: Record<string, Record<string, string>> = {};

beforeAll(async () => {
  instructor = makeWorkspace();
  out = path.join(instructor, 'grade-report');
  const target = path.join(instructor, 'tests', 'support', 'target.ts');
  const solution = path.join(instructor, 'solutions', LESSON_1, 'server.ts');
  workspaces.solved = makeSubmission('solved', 'solutions');
  workspaces.untouched = makeSubmission('untouched', 'lessons');
  workspaces.hangs = makeSubmission('hangs', 'solutions');
  // A wait at import blocks the test worker for good (no timer of vitest's can fire): only the grader's
  // time limit ends it. Atomics.wait blocks like an endless loop without burning a core meanwhile.
  edit(workspaces.hangs, (source) => `${source}\nAtomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);\n`);
  workspaces.throws = makeSubmission('throws', 'solutions');
  edit(workspaces.throws, (source) => `${source}\nthrow new Error('broken on purpose');\n`);
  workspaces.deletes = makeSubmission('deletes', 'solutions');
  edit(workspaces.deletes, (source) => `import { rmSync } from 'node:fs';\nrmSync(import.meta.filename, { force: true });\n${source}`);

  // Dishonest: the starter, plus code that tries to make the grader award points it did not earn.
  workspaces.rewrites = makeSubmission('rewrites', 'lessons');
  edit(
    workspaces.rewrites,
    (source) =>
      `import { writeFileSync as put } from 'node:fs';\n${source}` +
      attempt(`put(${JSON.stringify(target)}, "export * from './solutions-target.ts';\\n");`) +
      attempt(`put(${JSON.stringify(path.join(instructor, 'grading.json'))}, '{"lessons":{"1":{"points":0}}}');`) +
      attempt(`put(${JSON.stringify(path.join(out, 'planted.txt'))}, 'was here');`) +
      attempt(`put(new URL('../../tests/support/target.ts', import.meta.url), 'export {};');`),
  );
  workspaces.reads = makeSubmission('reads', 'lessons');
  edit(
    workspaces.reads,
    (source) =>
      `import { readFileSync as take } from 'node:fs';\n${source}` +
      attempt(`console.log(take(${JSON.stringify(solution)}, 'utf8').length);`) +
      attempt(`console.log(take(new URL('../../tests/lessons/${LESSON_1}.test.ts', import.meta.url), 'utf8').length);`),
  );
  workspaces.imports = makeSubmission('imports', 'lessons');
  edit(workspaces.imports, () => `export * from ${JSON.stringify(solution)};\n`);
  workspaces.forges = makeSubmission('forges', 'lessons');
  edit(
    workspaces.forges,
    (source) => `${source}
// Reports every failed test to vitest's main process as passed.
const state = (globalThis as any).__vitest_worker__;
if (state?.rpc && !state.forged) {
  state.forged = true;
  state.rpc = new Proxy(state.rpc, {
    get(rpc, name) {
      if (name !== 'onTaskUpdate') return rpc[name];
      return (packs: any[], events: unknown) =>
        rpc.onTaskUpdate(packs.map(([id, result, meta]) => [id, result?.state === 'fail' ? { ...result, state: 'pass', errors: [] } : result, meta]), events);
    },
  });
}
`,
  );
  workspaces.empty = path.join(path.dirname(workspaces.solved), 'not-a-workspace');
  for (const [name, ws] of Object.entries(workspaces)) if (name !== 'empty') before[name] = fingerprint(ws);
  checkoutBefore = fingerprint(instructor);

  result = await runCli(instructor, ['grade', '--time-limit', String(TIME_LIMIT_S), '--jobs', '3', '--out', out, ...Object.values(workspaces)], 900_000);
  report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as GradeReport;
  csv = readFileSync(path.join(out, 'grades.csv'), 'utf8');
}, 960_000);

function lesson(name: string) {
  const workspace = report.workspaces.find((candidate) => candidate.name === name);
  expect(workspace, `no workspace "${name}" in the report`).toBeDefined();
  return workspace!.lessons[0]!;
}

describe('grade, honest and broken workspaces', () => {
  it('exits 0 and prints a table of workspaces × lessons with points', () => {
    expect(result.code, result.all).toBe(0);
    const table = result.stdout.split('\n');
    expect(table.find((line) => /^workspace\s+lesson 1\s+total$/.test(line)), result.stdout).toBeDefined();
    expect(table.find((line) => /^solved\s+10\/10\s+10\/10$/.test(line)), result.stdout).toBeDefined();
    expect(table.find((line) => /^untouched\s+0\/10\s+0\/10$/.test(line)), result.stdout).toBeDefined();
    expect(table.find((line) => /^hangs\s+0\/10 hung\s+0\/10$/.test(line)), result.stdout).toBeDefined();
    expect(table.find((line) => /^throws\s+0\/10 throws at import\s+0\/10$/.test(line)), result.stdout).toBeDefined();
    expect(table.find((line) => /^not-a-workspace\s+0\/10 missing\s+0\/10$/.test(line)), result.stdout).toBeDefined();
    expect(result.stdout).toContain('!files = the code deleted or changed its own lesson files');
  });

  it('writes a JSON report with every graded test of every lesson: status, message, points', () => {
    expect(report.lessons).toEqual([expect.objectContaining({ number: 1, maxPoints: 10 })]);
    // The sentinels are the grader's own: they are never listed or counted.
    expect(report.lessons[0]!.tests.some((test) => test.fullName.startsWith('integrity check'))).toBe(false);
    const solved = lesson('solved');
    expect(solved).toMatchObject({ status: 'passed', points: 10, maxPoints: 10, modifiedOwnFiles: [], tampering: [] });
    expect(solved.tests).toHaveLength(9);
    expect(solved.tests.every((test) => test.status === 'passed' && test.message === '')).toBe(true);

    const untouched = lesson('untouched');
    expect(untouched).toMatchObject({ status: 'failed', tampering: [] });
    expect(untouched.message).toContain('TODO 1.4');
    // Messages name no scratch folder, and carry no assertion-library notes.
    for (const test of untouched.tests) {
      expect(test.message).not.toMatch(/lab-grade-|Object\.is equality/);
    }
    // The Host check passes from the start; grading.json gives it 0 points.
    const host = untouched.tests.find((test) => test.fullName.includes('Host header'))!;
    expect(host).toMatchObject({ status: 'passed', points: 0, maxPoints: 0 });
    const failed = untouched.tests.filter((test) => test.status === 'failed');
    expect(failed).toHaveLength(8);
    expect(failed.every((test) => test.points === 0 && test.maxPoints === 1.25 && /TODO 1\.\d/.test(test.message))).toBe(true);

    expect(lesson('hangs')).toMatchObject({ status: 'timeout', points: 0 });
    // Counts the tests that carry points only.
    expect(lesson('hangs').message).toContain(`time limit of ${TIME_LIMIT_S} s (0 of 8 graded tests had finished)`);
    expect(lesson('hangs').tests.every((test) => test.status === 'not-run')).toBe(true);

    // The Host test (0 points) passes even so: the verdict is decided on the tests that carry points.
    expect(lesson('throws')).toMatchObject({ status: 'import-error', points: 0 });
    expect(lesson('throws').message).toMatch(/^Could not load .*server\.ts: broken on purpose/);

    expect(lesson('not-a-workspace')).toMatchObject({ status: 'missing', points: 0 });
    expect(report.workspaces.find((ws) => ws.name === 'not-a-workspace')!.problem).toBe('the folder does not exist');
  });

  it('flags a lesson that deletes its own files, and never writes into any submission', () => {
    expect(lesson('deletes').modifiedOwnFiles).toEqual(['server.ts']);
    expect(lesson('deletes').status).not.toBe('tampered');
    expect(result.stdout).toMatch(/^deletes\s+[\d.]+\/10 [a-z ]*!files\s+[\d.]+\/10$/m);
    for (const [name, prints] of Object.entries(before)) {
      expect(fingerprint(workspaces[name]!), `grading changed the submission "${name}"`).toEqual(prints);
    }
  });
});

describe('grade, dishonest workspaces', () => {
  it("leaves the grader's checkout byte-identical (apart from the report it writes)", () => {
    const after = fingerprint(instructor);
    for (const file of ['grade-report/report.json', 'grade-report/grades.csv'].map((name) => name.split('/').join(path.sep))) delete after[file];
    expect(after).toEqual(checkoutBefore);
    expect(existsSync(path.join(out, 'planted.txt'))).toBe(false);
  });

  it.each([
    ['rewrites', /tried to write .*tests[\\/]support[\\/]target\.ts/],
    ['reads', /tried to read .*solutions[\\/]01-open-server[\\/]server\.ts/],
    ['imports', /asked to load .*solutions[\\/]01-open-server[\\/]server\.ts/],
    ['forges', /reporting was changed from inside/],
  ])('marks "%s" tampered, with 0 points and the reason', (name, reason) => {
    const graded = lesson(name);
    expect(graded).toMatchObject({ status: 'tampered', points: 0 });
    expect(graded.tampering.join('\n')).toMatch(reason);
    expect(graded.tests.every((test) => test.points === 0)).toBe(true);
    expect(result.stdout).toMatch(new RegExp(`^${name}\\s+0/10 tampered\\s+0/10$`, 'm'));
    expect(csv.split('\r\n').find((row) => row.startsWith(`${name},`))).toMatch(new RegExp(`^${name},0,0,10,"?lesson 1: tampered \\(`));
  });

  it('ends with a warning that names every tampered run', () => {
    const tail = result.stdout.slice(result.stdout.lastIndexOf('workspace '));
    expect(tail).toContain('4 run(s) marked tampered score 0');
    for (const name of ['rewrites', 'reads', 'imports', 'forges']) expect(tail).toContain(`${name}, lesson 1:`);
  });

  it('writes a CSV for gradebooks, one row per workspace, sorted by name', () => {
    const rows = csv.trim().split('\r\n');
    expect(rows[0]).toBe('workspace,lesson 1,total,max,notes');
    expect(rows).toContain('solved,10,10,10,');
    expect(rows).toContain('hangs,0,0,10,lesson 1: hung');
    expect(rows).toContain('throws,0,0,10,lesson 1: throws at import');
    expect(rows.find((row) => row.startsWith('deletes,'))).toMatch(/^deletes,[\d.]+,[\d.]+,10,.*lesson 1: changed its own files$/);
    const names = rows.slice(1).map((row) => row.split(',')[0]);
    expect(names).toEqual([...names].sort());
    expect(rows).toHaveLength(11);
  });
});

describe('grade --shard and --merge', () => {
  it('grades part of the room in two shards; merged, they give each workspace what grading the room whole gave it', async () => {
    const room = ['solved', 'untouched', 'throws'];
    const shardDirs = [1, 2].map((index) => path.join(instructor, `shard-${index}`));
    const merged = path.join(instructor, 'merged');
    const runs = await Promise.all(
      shardDirs.map((dir, index) =>
        runCli(instructor, ['grade', '--time-limit', String(TIME_LIMIT_S), '--jobs', '1', '--shard', `${index + 1}/2`, '--out', dir, ...room.map((name) => workspaces[name]!)], 600_000),
      ),
    );
    for (const run of runs) expect(run.code, run.all).toBe(0);
    const merge = await runCli(instructor, ['grade', '--merge', '--out', merged, ...shardDirs], 120_000);
    expect(merge.code, merge.all).toBe(0);

    // The room graded whole is the one graded above (every workspace, one grade run): the merged
    // report must hold exactly its entries for these workspaces, in the same order.
    const comparable = (graded: GradeReport, names: string[]) => {
      const { gradedAt: _at, shard: _shard, warnings: _warnings, ...rest } = graded;
      const workspaces = rest.workspaces.filter((ws) => names.includes(ws.name));
      return { ...rest, workspaces: workspaces.map((ws) => ({ ...ws, lessons: ws.lessons.map(({ durationMs: _ms, ...lesson }) => lesson) })) };
    };
    const read = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as GradeReport;
    // A deterministic split by name: every other workspace.
    expect(shardDirs.map((dir) => read(dir).workspaces.map((ws) => ws.name))).toEqual([['solved', 'untouched'], ['throws']]);
    const mergedReport = read(merged);
    expect(comparable(mergedReport, room)).toEqual(comparable(report, room));
    expect(mergedReport.warnings, 'these three workspaces give the grader nothing to warn about').toEqual([]);
    const rows = (text: string) => text.split('\r\n').filter((row) => row.startsWith('workspace,') || room.some((name) => row.startsWith(`${name},`)));
    expect(rows(readFileSync(path.join(merged, 'grades.csv'), 'utf8'))).toEqual(rows(csv));
    expect(merge.stdout).toMatch(/^solved\s+10\/10\s+10\/10$/m);
  }, 700_000);
});
