/**
 * `npm run mutants [N...] [--jobs N] [--only id,id]`: proves that every rule a lesson teaches is
 * enforced by its tests (for maintainers and CI).
 *
 * Each lesson's catalogue (`tests/mutants/NN-slug.ts`, see tests/mutants/mutant.ts) lists mistakes a
 * learner could make, each one edit of the reference solution. Every mutant is applied to its own scratch
 * copy of the solutions (the sandbox `grade` uses, sandbox.ts: own files, own LAB_STATE_DIR, the tests
 * on free ports), and the lesson's suite runs against it through LAB_TARGET, stopping at the first failure.
 * A mutant is killed when a test fails; it survives when every test passes. The unchanged solution runs
 * too, so a broken solution cannot pass for a catalogue of killed mutants. A mutant whose section is a
 * step ("TODO 4.5") must also be *pointed at*: the TODO that `check:N` and `hint:N` would name for that
 * first failure is that step; otherwise it is misdirected (the learner is sent to the wrong step).
 *
 * Exit code 1 when a mutant survives or is misdirected, when one no longer applies (its text is not in the solution exactly
 * once, or its section is not a heading of the lesson's README), when one breaks the file instead of a rule
 * (the suite cannot load it), or when the unchanged solution fails.
 */
import './requireNode.ts';
import './compileCache.ts';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Mutant } from '../../tests/mutants/mutant.ts';
import { availableLessons, findLesson, repoPath, ROOT, type Lesson } from './lessons.ts';
import { bold, dim, green, LabError, red, say, sayError, yellow } from './output.ts';
import { freezeGraderFiles, prepareSandbox, removeSandbox, runInSandbox } from './sandbox.ts';
import { firstTodo } from './checkResults.ts';
import { LESSON_LOAD_ERROR } from './suiteRun.ts';

/** A suite that hangs on a mutant counts as a kill, but must not hang the run. */
const SUITE_TIMEOUT_MS = 5 * 60_000;

type Verdict = 'killed' | 'misdirected' | 'survived' | 'stale' | 'broken';

interface Job {
  lesson: Lesson;
  /** Undefined for the run of the unchanged solution. */
  mutant?: Mutant;
}

interface Outcome extends Job {
  verdict: Verdict;
  /** The test that killed it, or why the mutant is stale or broken. */
  detail: string;
}

function catalogueFile(lesson: Lesson): string {
  return path.join(ROOT, 'tests', 'mutants', `${lesson.folder}.ts`);
}

async function readCatalogue(lesson: Lesson): Promise<Mutant[]> {
  const file = catalogueFile(lesson);
  if (!existsSync(file)) return [];
  let module: { default?: Mutant[] };
  try {
    module = (await import(pathToFileURL(file).href)) as { default?: Mutant[] };
  } catch (error) {
    throw new LabError(`Could not load ${repoPath(file)}: ${String((error as Error).message).split('\n')[0]}`);
  }
  if (!Array.isArray(module.default)) throw new LabError(`${repoPath(file)} must export its mutants as the default export (see tests/mutants/mutant.ts).`);
  const seen = new Set<string>();
  for (const mutant of module.default) {
    if (seen.has(mutant.id)) throw new LabError(`${repoPath(file)}: the id "${mutant.id}" is used twice.`);
    seen.add(mutant.id);
  }
  return module.default;
}

function occurrences(text: string, find: string): number {
  return find === '' ? 0 : text.split(find).length - 1;
}

/** Why a mutant no longer fits the solution or the lesson text, if it does not. */
function staleness(lesson: Lesson, mutant: Mutant): string | undefined {
  const file = path.join(lesson.solutionDir, mutant.file);
  if (!existsSync(file)) return `${repoPath(file)} does not exist`;
  const count = occurrences(readFileSync(file, 'utf8'), mutant.find);
  if (count !== 1) return `its text occurs ${count} times in ${repoPath(file)}, not once`;
  if (mutant.find === mutant.replace) return 'its replacement equals its text';
  const readme = path.join(lesson.lessonDir, 'README.md');
  const headings = existsSync(readme) ? [...readFileSync(readme, 'utf8').matchAll(/^#+\s+(.*)$/gm)].map((match) => match[1]!.trim()) : [];
  if (!headings.some((heading) => heading.startsWith(mutant.section))) return `"${mutant.section}" is not a heading of ${repoPath(readme)}`;
  return undefined;
}

async function runJob(job: Job, scratch: string, frozen: string, index: number): Promise<Outcome> {
  const { lesson, mutant } = job;
  if (mutant) {
    const stale = staleness(lesson, mutant);
    if (stale) return { ...job, verdict: 'stale', detail: stale };
  }
  // The sandbox grade uses, without its sentinels: --bail stops at the first failing test.
  const sandbox = prepareSandbox(path.join(scratch, String(index)), frozen, lesson, lesson.solutionDir, { sentinels: false });
  try {
    if (mutant) {
      const file = path.join(sandbox.lessonDir, mutant.file);
      writeFileSync(file, readFileSync(file, 'utf8').replace(mutant.find, () => mutant.replace));
    }
    const run = await runInSandbox(sandbox, SUITE_TIMEOUT_MS, ['--bail=1']);
    const relabel = (text: string) => text.split(path.join(sandbox.root, 'lessons')).join('solutions');
    const failed = run.events.tests.find((test) => test.status === 'failed');
    const error = run.events.errors[0];
    const why = failed ? `${failed.fullName}: ${failed.message}` : error ? error.message : run.timedOut ? 'the suite timed out' : undefined;
    if (!why) {
      if (run.code === 0 && run.events.tests.length > 0) return { ...job, verdict: 'survived', detail: `all ${run.events.tests.length} tests pass` };
      return { ...job, verdict: 'broken', detail: `the suite stopped without a result (exit code ${run.code}): ${run.output.trim().split('\n').at(-1)}` };
    }
    if ((failed ?? error)?.code === LESSON_LOAD_ERROR) return { ...job, verdict: 'broken', detail: relabel(why) };
    const step = /^TODO (\d+\.\d+)$/.exec(mutant?.section ?? '')?.[1];
    const named = firstTodo(failed ? [failed] : [], run.events);
    if (step && named !== step) {
      return { ...job, verdict: 'misdirected', detail: `check:${lesson.number} would send the learner to ${named ? `TODO ${named}` : 'no TODO'}, not TODO ${step}: ${relabel(why)}` };
    }
    return { ...job, verdict: 'killed', detail: relabel(why) };
  } finally {
    removeSandbox(sandbox);
  }
}

function label(outcome: Outcome): string {
  return outcome.mutant ? `${outcome.lesson.number}/${outcome.mutant.id}` : `${outcome.lesson.number}/(unchanged solution)`;
}

function mark(outcome: Outcome): string {
  if (!outcome.mutant) return outcome.verdict === 'survived' ? green('✔ passes     ') : red('✘ FAILS      ');
  return { killed: green('✔ killed     '), misdirected: red('✘ MISDIRECTED'), survived: red('✘ SURVIVED   '), stale: red('✘ STALE      '), broken: red('✘ BROKEN     ') }[outcome.verdict];
}

/** One line, cut to `width` characters. */
function clip(text: string, width: number): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

/** The table: mutant, rule, verdict, and the test that killed it (or why not). */
function printTable(outcomes: Outcome[]): void {
  const width = Math.max(...outcomes.map((outcome) => label(outcome).length));
  for (const outcome of outcomes) {
    const rule = outcome.mutant ? `${outcome.mutant.rule} (README: ${outcome.mutant.section})` : 'the reference solution passes its suite';
    say(`${mark(outcome)} ${bold(label(outcome).padEnd(width))}  ${rule}`);
    const by = outcome.verdict === 'killed' ? 'killed by ' : '';
    say(dim(`${' '.repeat(15 + width)}${by}${clip(outcome.detail, 220)}`));
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { jobs: { type: 'string', short: 'j' }, only: { type: 'string' } },
  });
  const jobs = values.jobs === undefined ? Math.max(1, Math.min(4, os.availableParallelism())) : Number(values.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) throw new LabError(`--jobs must be a whole number of at least 1, not "${values.jobs}".`);
  const lessons = positionals.length > 0 ? positionals.map((arg) => findLesson(arg)) : availableLessons();
  const only = values.only?.split(',').map((id) => id.trim());

  const queue: Job[] = [];
  for (const lesson of lessons) {
    const catalogue = (await readCatalogue(lesson)).filter((mutant) => !only || only.includes(mutant.id));
    if (catalogue.length === 0) {
      say(yellow(`Lesson ${lesson.number} has no mutants${only ? ' with those ids' : ` (${repoPath(catalogueFile(lesson))})`}.`));
      continue;
    }
    queue.push({ lesson }, ...catalogue.map((mutant) => ({ lesson, mutant })));
  }
  if (queue.length === 0) throw new LabError('There are no mutants to run.');

  say(bold(`Mutants: ${queue.length - lessons.length} edits of the solutions, ${jobs} at a time`) + dim(' (each runs its lesson suite until the first failure)'));
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'lab-mutants-'));
  const frozen = freezeGraderFiles(path.join(scratch, 'frozen'), [...new Set(queue.map((job) => job.lesson))]);
  const outcomes: Outcome[] = new Array(queue.length);
  let next = 0;
  const started = Date.now();
  try {
    const worker = async () => {
      while (next < queue.length) {
        const index = next++;
        const outcome = await runJob(queue[index]!, scratch, frozen, index);
        outcomes[index] = outcome;
        say(dim(`${mark(outcome)} ${label(outcome)}`));
      }
    };
    await Promise.all(Array.from({ length: Math.min(jobs, queue.length) }, worker));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  const seconds = Math.round((Date.now() - started) / 1000);
  const mutantsOnly = outcomes.filter((outcome) => outcome.mutant);
  const count = (verdict: Verdict) => mutantsOnly.filter((outcome) => outcome.verdict === verdict).length;
  const bad = outcomes.filter((outcome) => (outcome.mutant ? outcome.verdict !== 'killed' : outcome.verdict !== 'survived'));
  say();
  say(bold('Results'));
  printTable(outcomes);
  say();
  say(`${count('killed')} killed, ${count('misdirected')} misdirected, ${count('survived')} survived, ${count('stale')} stale, ${count('broken')} broken of ${mutantsOnly.length} mutants (${seconds} s)`);
  if (bad.some((outcome) => !outcome.mutant)) sayError('An unchanged solution fails its own suite: fix that first (npm test), the kills above mean nothing until then.');
  if (count('survived') > 0) say('A survivor is a rule a learner can break with full marks: add a test that fails for it (message: the rule, what happened, "See TODO N.M").');
  if (count('misdirected') > 0) say('A misdirected mutant is caught, but the first failure names another step: make that test say "See TODO N.M" for the step that holds the mistake, or move the check to a test of that step.');
  if (count('stale') > 0) say('A stale mutant no longer matches the solution or the README: update its find text or section in tests/mutants/.');
  if (count('broken') > 0) say('A broken mutant stops the file from loading instead of breaking a rule: fix its replacement.');
  return bad.length === 0 ? 0 : 1;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof LabError) && !(error instanceof TypeError && 'code' in error)) throw error;
  sayError(error.message);
  process.exitCode = 1;
}
