/**
 * `npm run hint:N`: the next hint for lesson N, one tier at a time (a nudge, then the API or spec rule
 * to use, then the shape of the code), never the solution.
 *
 * Hints live in `shared/lab/hints/NN-slug.md`:
 *
 *   # Hints: lesson N
 *   ## TODO N.1: <short title>
 *   1. <a nudge>
 *   2. <the API or spec rule to use>
 *   3. <the shape of the code>
 *   ## TODO N.2: …
 *
 * Which TODO: the one named by the first failure of the latest `check:N` (the same one the check's
 * footer names); without a check, the first TODO whose hints are not all shown yet. `--todo N.x` picks
 * one, `--reset` starts the lesson's hints over. How many tiers the learner has seen is kept per TODO
 * in `.lab/hints.json`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readLatestCheck } from './checkResults.ts';
import { findLesson, repoPath, ROOT, type Lesson } from './lessons.ts';
import { bold, dim, LabError, npmRun, say, sayNext, yellow } from './output.ts';
import { readJsonState, stateDir, writeJsonState } from './state.ts';
import { TRANSLATION } from './translations.ts';
import { loadDotEnv } from '../config.ts';

/** One `## TODO N.M: title` section of a hints file, split into its tiers. */
export interface HintTodo {
  /** "1.4" */
  id: string;
  title: string;
  /** The tiers in order, each as Markdown text (may span lines, may hold a code block). */
  tiers: string[];
}

/** Parses a hints file. Lines before the first `## TODO` heading, and text before a section's first tier, are ignored. */
export function parseHints(markdown: string): HintTodo[] {
  const todos: HintTodo[] = [];
  let todo: HintTodo | undefined;
  let tier: string[] | undefined;
  let inFence = false;
  const closeTier = () => {
    if (todo && tier) todo.tiers.push(tier.join('\n').trim());
    tier = undefined;
  };
  for (const line of markdown.replace(/\r\n/g, '\n').split('\n')) {
    if (!inFence) {
      const heading = /^##\s+TODO\s+(\d+\.\d+)\s*:?\s*(.*)$/.exec(line);
      if (heading) {
        closeTier();
        todo = { id: heading[1]!, title: heading[2]!.trim(), tiers: [] };
        todos.push(todo);
        continue;
      }
      if (/^#\s/.test(line)) continue;
      const item = /^(\d+)\.\s+(.*)$/.exec(line);
      if (item && todo) {
        closeTier();
        tier = [item[2]!];
        continue;
      }
    }
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    // Continuation lines are indented under their item in Markdown; print them without that indent.
    if (tier) tier.push(line.replace(/^ {1,3}/, ''));
  }
  closeTier();
  return todos.filter((candidate) => candidate.tiers.length > 0);
}

/**
 * The hints file of a lesson, in Simplified Chinese when the learner asked for it (`LAB_LANG=zh-CN` in
 * `.env` or the environment) and that translation exists, else in English.
 */
export function hintsFile(lesson: Pick<Lesson, 'folder'>, root = ROOT, language = hintLanguage()): string {
  const english = path.join(root, 'shared', 'lab', 'hints', `${lesson.folder}.md`);
  const translated = path.join(root, 'shared', 'lab', 'hints', TRANSLATION, `${lesson.folder}.md`);
  return language === TRANSLATION && existsSync(translated) ? translated : english;
}

/**
 * `zh-CN` when LAB_LANG says so, `en` when it says anything else. Without LAB_LANG, Chinese follows a
 * Chinese system locale (`LANG`/`LC_ALL` on Linux and macOS, the ICU locale elsewhere).
 */
export function hintLanguage(env: NodeJS.ProcessEnv = process.env): string {
  // An empty value (LAB_LANG= as .env.example ships it) means unset.
  const wanted = [env.LAB_LANG, env.LC_ALL, env.LANG].find((value) => value?.trim()) ?? Intl.DateTimeFormat().resolvedOptions().locale;
  return /^zh([-_.]|$)/i.test(wanted.trim()) ? TRANSLATION : 'en';
}

/** Per lesson folder: how many tiers of each TODO the learner has seen, and the TODO of the last hint. */
type HintState = Record<string, { shown: Record<string, number>; last?: string }>;

function stateFile(): string {
  return path.join(stateDir(), 'hints.json');
}

/**
 * `npm run hint:N`: the next tier of hints for the TODO the latest check points at (or `options.todo`);
 * `options.reset` starts the tiers over. Returns the exit code.
 */
export function hintCommand(arg: string | undefined, options: { todo?: string; reset: boolean }): number {
  loadDotEnv(path.join(ROOT, '.env'));
  const lesson = findLesson(arg);
  const n = lesson.number;
  const file = hintsFile(lesson);
  if (!existsSync(file)) {
    throw new LabError(
      `Lesson ${n} has no hints yet (${repoPath(file)}). Re-read ${repoPath(lesson.lessonDir)}/README.md, or compare with the solution: ${npmRun(`diff:${n}`)}`,
    );
  }
  const todos = parseHints(readFileSync(file, 'utf8'));
  if (todos.length === 0) throw new LabError(`${repoPath(file)} has no "## TODO ${n}.x" sections with numbered hints.`);
  const state = readJsonState<HintState>(stateFile(), {});
  const mine = (state[lesson.folder] ??= { shown: {} });

  if (options.reset) {
    delete state[lesson.folder];
    writeJsonState(stateFile(), state);
    say(`Hints for lesson ${n} start again from the first tier of each TODO.`);
    sayNext('Next:', [[npmRun(`hint:${n}`), 'the first hint for the TODO your latest check fails on']]);
    return 0;
  }

  let todo: HintTodo | undefined;
  let why: string;
  if (options.todo !== undefined) {
    const wanted = options.todo.includes('.') ? options.todo : `${n}.${options.todo}`;
    todo = todos.find((candidate) => candidate.id === wanted);
    if (!todo) throw new LabError(`Lesson ${n} has no hints for TODO ${wanted}. It has hints for: ${todos.map((t) => t.id).join(', ')}.`);
    why = 'you asked for it';
  } else {
    const check = readLatestCheck(lesson);
    const staleNote = check.stale ? `; you changed files since, so ${npmRun(`check:${n}`)} again to update it` : '';
    if (check.ran && check.passed && !check.stale) {
      say(`Your latest ${npmRun(`check:${n}`)} passed: lesson ${n} needs no hints.`);
      sayNext('Next:', [[`${npmRun(`hint:${n}`)} -- --todo ${todos[0]!.id}`, `hints for one TODO anyway (${todos.map((t) => t.id).join(', ')})`]]);
      return 0;
    }
    todo = check.firstTodo ? todos.find((candidate) => candidate.id === check.firstTodo) : undefined;
    if (todo) {
      why = `your latest check fails on it first${staleNote}`;
    } else {
      const last = todos.find((candidate) => candidate.id === mine.last && (mine.shown[candidate.id] ?? 0) < candidate.tiers.length);
      todo = last ?? todos.find((candidate) => (mine.shown[candidate.id] ?? 0) < candidate.tiers.length) ?? todos[0]!;
      why = check.ran
        ? `your latest check names no TODO with hints${staleNote}`
        : `the first TODO you have not seen every hint for; run ${npmRun(`check:${n}`)} and hints follow what fails`;
    }
  }

  const seen = mine.shown[todo.id] ?? 0;
  const tier = Math.min(seen + 1, todo.tiers.length);
  mine.shown[todo.id] = tier;
  mine.last = todo.id;
  writeJsonState(stateFile(), state);

  say(bold(`Lesson ${n} · TODO ${todo.id}: ${todo.title}`) + dim(` (${why})`));
  for (let index = 0; index < tier - 1; index += 1) {
    say(dim(`  Hint ${index + 1} (seen before):`));
    say(indent(todo.tiers[index]!, dim));
  }
  say(bold(`  Hint ${tier} of ${todo.tiers.length}:`));
  say(indent(todo.tiers[tier - 1]!));
  say();
  const others = todos.filter((candidate) => candidate.id !== todo.id).map((candidate) => candidate.id);
  // A TODO picked by hand stays picked only with --todo: without it, hint:N follows the latest check.
  const again = options.todo !== undefined ? `${npmRun(`hint:${n}`)} -- --todo ${todo.id}` : npmRun(`hint:${n}`);
  const steps: Array<readonly [string, string]> =
    tier < todo.tiers.length
      ? [[again, `the next hint for TODO ${todo.id} (${todo.tiers.length - tier} more)`]]
      : [[npmRun(`diff:${n}`), `that was the last hint for TODO ${todo.id}; this compares your code with the solution`]];
  if (tier === todo.tiers.length && seen === tier) say(yellow(`You have seen every hint for TODO ${todo.id}.`));
  sayNext('Next:', [
    ...steps,
    [npmRun(`check:${n}`), 'check your code again'],
    ...(others.length > 0 ? [[`${npmRun(`hint:${n}`)} -- --todo ${others[0]}`, `hints for another TODO (${others.join(', ')})`] as const] : []),
    [`${npmRun(`hint:${n}`)} -- --reset`, 'start the hints of this lesson over'],
  ]);
  return 0;
}

function indent(text: string, paint: (line: string) => string = (line) => line): string {
  return text
    .split('\n')
    .map((line) => `    ${paint(line)}`)
    .join('\n');
}
