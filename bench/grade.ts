/**
 * How long does a room take to grade? A room of workspaces, half with the reference solutions copied in
 * and half untouched starters, graded for lessons 1–4 by `npm run grade` exactly as an instructor runs it
 * (a child process, default `--jobs`). Goal: 60 workspaces in at most 10 minutes on 2 cores.
 *
 *   npm run bench:grade      (or: npx tsx bench/grade.ts --workspaces 60 --lessons 1,2,3,4 --jobs 4)
 *
 * Not a test: it shows the grader's own output, then prints the room's figure, with the machine's cores and load average, since a machine
 * shared with other work grades more slowly.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { GradeReport } from '../shared/lab/grading/report.ts';
import { availableLessons, ROOT } from '../shared/lab/lessons.ts';
import { runNode, tsNodeArgs } from '../shared/lab/processes.ts';

const GOAL_SECONDS = 10 * 60;

const { values } = parseArgs({
  options: { workspaces: { type: 'string', default: '60' }, lessons: { type: 'string', default: '1,2,3,4' }, jobs: { type: 'string' } },
});
const count = Number(values.workspaces);
const numbers = values.lessons.split(',').map(Number);
const lessons = availableLessons().filter((lesson) => numbers.includes(lesson.number));

const room = mkdtempSync(path.join(os.tmpdir(), 'bench-grade-'));
try {
  const workspaces = Array.from({ length: count }, (_, index) => {
    const solved = index % 2 === 0;
    const ws = path.join(room, `${solved ? 'solved' : 'untouched'}-${String(index).padStart(3, '0')}`);
    for (const lesson of lessons) cpSync(solved ? lesson.solutionDir : lesson.lessonDir, path.join(ws, 'lessons', lesson.folder), { recursive: true });
    return ws;
  });
  const out = path.join(room, 'report');
  const load = os.loadavg()[0]!.toFixed(1);
  const jobs = values.jobs ? ['--jobs', values.jobs] : [];
  console.log(`Grading ${count} workspaces × lessons ${numbers.join(', ')} on ${os.availableParallelism()} cores (load average ${load} at the start)…`);
  const started = Date.now();
  const run = await runNode([...tsNodeArgs(path.join(ROOT, 'shared', 'lab', 'cli.ts')), 'grade', '--lessons', values.lessons, '--out', out, ...jobs, ...workspaces], {
    env: { ...process.env, NO_COLOR: '1' },
  });
  const seconds = (Date.now() - started) / 1000;
  if (run.code !== 0) throw new Error(`npm run grade exited with code ${run.code}`);
  const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as GradeReport;
  const runs = report.workspaces.flatMap((workspace) => workspace.lessons);
  const perLesson = lessons.map((lesson) => {
    const durations = runs.filter((run) => run.number === lesson.number).map((run) => run.durationMs / 1000);
    return `lesson ${lesson.number} ${(durations.reduce((a, b) => a + b, 0) / durations.length).toFixed(1)} s`;
  });
  const statuses = new Map<string, number>();
  for (const graded of runs) statuses.set(graded.status, (statuses.get(graded.status) ?? 0) + 1);
  const minutes = `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  console.log(`Room: ${count} workspaces × ${lessons.length} lessons = ${runs.length} runs in ${minutes} (${(seconds / count).toFixed(1)} s per workspace)`);
  console.log(`Mean run: ${perLesson.join(' · ')}`);
  console.log(`Verdicts: ${[...statuses].map(([status, n]) => `${n} ${status}`).join(', ')}`);
  console.log(`Load average at the end: ${os.loadavg()[0]!.toFixed(1)} · goal ≤ ${GOAL_SECONDS / 60} min on 2 cores: ${seconds <= GOAL_SECONDS ? 'met' : 'not met'}`);
} finally {
  rmSync(room, { recursive: true, force: true });
}
