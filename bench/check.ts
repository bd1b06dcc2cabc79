/**
 * How long does `check:N` take? Each lesson's suite run as `check:N` runs it (runSuite, one vitest
 * process), against the reference solutions (a passing check) and the starters (a failing one), each
 * `--runs` times after one unmeasured warm-up run, plus the lab CLI's own start-up, timed apart (check:N
 * cannot be pointed at the solutions). Goal: a passing check ≤ 3 s, a failing one ≤ 10 s, on 2 cores.
 *
 *   npm run bench:check      (or: npx tsx bench/check.ts --lessons 2,5 --runs 3)
 *
 * Not a test: it prints the median time of each, the slowest tests (where the time goes) and the load
 * average, since a machine shared with other work runs everything more slowly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import '../shared/lab/compileCache.ts';
import { availableLessons, repoPath, ROOT } from '../shared/lab/lessons.ts';
import { runNode, tsNodeArgs } from '../shared/lab/processes.ts';
import { runSuite, type SuiteRun } from '../shared/lab/suiteRun.ts';

const GOAL_SECONDS = { solutions: 3, lessons: 10 } as const;

const { values } = parseArgs({ options: { lessons: { type: 'string' }, runs: { type: 'string', default: '3' } } });
const numbers = values.lessons?.split(',').map(Number);
const lessons = availableLessons().filter((lesson) => !numbers || numbers.includes(lesson.number));
const runs = Math.max(1, Number(values.runs));
const scratch = mkdtempSync(path.join(os.tmpdir(), 'bench-check-'));
const load = () => os.loadavg()[0]!.toFixed(1);

async function timed(tests: string, target: 'solutions' | 'lessons'): Promise<{ seconds: number; run: SuiteRun }> {
  const started = Date.now();
  const run = await runSuite({ tests: [tests], target, eventsFile: path.join(scratch, 'events.ndjson'), mode: 'capture', timeoutMs: 10 * 60_000 });
  return { seconds: (Date.now() - started) / 1000, run };
}

/** What `check:N` adds to its vitest run: Node, tsx and the lab CLI's own modules, timed as `cli.ts help`. */
async function cliStartup(): Promise<number> {
  const samples = [];
  for (let i = 0; i <= runs; i++) {
    const started = Date.now();
    await runNode([...tsNodeArgs(path.join(ROOT, 'shared', 'lab', 'cli.ts')), 'help'], { capture: true, timeoutMs: 60_000 });
    if (i > 0) samples.push((Date.now() - started) / 1000); // the first run warms tsx's cache
  }
  return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
}

const cli = await cliStartup();
console.log(`check:N for lessons ${lessons.map((lesson) => lesson.number).join(', ')}, median of ${runs} warm runs, on ${os.availableParallelism()} cores (load average ${load()} at the start)`);
try {
  for (const lesson of lessons) {
    for (const target of ['solutions', 'lessons'] as const) {
      await timed(repoPath(lesson.testFile), target); // warm-up: tsx's and vitest's caches
      const samples = [];
      for (let i = 0; i < runs; i++) samples.push(await timed(repoPath(lesson.testFile), target));
      samples.sort((a, b) => a.seconds - b.seconds);
      const median = samples[Math.floor(samples.length / 2)]!;
      const passed = median.run.events.tests.filter((test) => test.status === 'passed').length;
      const total = median.run.events.tests.length;
      const slowest = [...median.run.events.tests].sort((a, b) => b.durationMs - a.durationMs).slice(0, 3);
      const seconds = median.seconds + cli;
      const verdict = seconds <= GOAL_SECONDS[target] ? 'met' : 'not met';
      const kind = target === 'solutions' ? 'passing' : 'failing';
      console.log(
        `lesson ${lesson.number} ${kind} (${target}, ${passed}/${total} pass): ${seconds.toFixed(1)} s (vitest ${median.seconds.toFixed(1)} s + CLI ${cli.toFixed(1)} s), goal ≤ ${GOAL_SECONDS[target]} s ${verdict} · load ${load()}`,
      );
      for (const test of slowest) console.log(`    ${(test.durationMs / 1000).toFixed(2)} s  ${test.name.slice(0, 100)}`);
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
