/**
 * `npm run reset:N [-- --yes]`: put lesson N's starter back, without ever losing what the learner wrote.
 *
 * It restores every file of the shipped starter (shared/lab/starters/NN-slug.json, see starters.ts)
 * after copying the whole current folder to `.lab/backups/NN-slug-<timestamp>/`. It asks first: it
 * needs an interactive "yes" or an explicit `--yes`, and refuses otherwise (a script or a pipe cannot
 * say yes by accident). Files the learner added, which the starter does not have, stay where they are.
 */
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { findLesson, LESSON_TABLE, repoPath, withPaths, type Lesson } from './lessons.ts';
import { bold, dim, green, LabError, npmRun, say, sayNext, yellow } from './output.ts';
import { backupsDir, checkEventsFile } from './state.ts';
import { compareWithStarter, isUnchanged, readStarter, starterFile } from './starters.ts';

/**
 * `npm run reset:N`: restores the lesson's starter files after a yes (or `options.yes`), keeping copies
 * of what it replaces in `.lab/backups/`. Files the learner added stay. Resolves to the exit code.
 */
export async function resetLesson(arg: string | undefined, options: { yes: boolean }): Promise<number> {
  const lesson = lessonToReset(arg);
  const n = lesson.number;
  const starter = readStarter(lesson);
  if (!starter) {
    throw new LabError(
      `The workshop has no copy of lesson ${n}'s starter (${repoPath(starterFile(lesson))}), so reset:${n} cannot restore it. Update the workshop (git pull).`,
    );
  }
  const where = repoPath(lesson.lessonDir);
  const comparison = compareWithStarter(starter, lesson.lessonDir);
  if (isUnchanged(comparison) || (comparison.changed.length === 0 && comparison.missing.length === 0)) {
    say(green(`✔ ${where} already holds the starter of lesson ${n}: nothing to reset.`));
    if (comparison.extra.length > 0) say(dim(`  (Your own files stay as they are: ${comparison.extra.join(', ')}.)`));
    return 0;
  }

  say(bold(`reset:${n} puts the starter of lesson ${n} · ${lesson.title} back into ${where}:`));
  for (const name of comparison.changed) say(`  ${yellow('replace')}  ${name} ${dim('(your version goes to the backup)')}`);
  for (const name of comparison.missing) say(`  ${yellow('restore')}  ${name} ${dim('(it is missing)')}`);
  for (const name of comparison.extra) say(`  ${dim('keep   ')}  ${name} ${dim('(not part of the starter)')}`);

  if (!options.yes && !(await confirm(`Type yes to reset lesson ${n}: `))) {
    say();
    say(`Not reset; nothing changed. To reset without the question: ${npmRun(`reset:${n}`)} -- --yes`);
    return 1;
  }

  const backup = backUp(lesson);
  for (const [name, text] of starter) {
    if (!comparison.changed.includes(name) && !comparison.missing.includes(name)) continue;
    const file = path.join(lesson.lessonDir, ...name.split('/'));
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  // The latest check described the files that are gone now.
  rmSync(checkEventsFile(lesson), { force: true });

  say();
  say(green(`✔ Lesson ${n} is back to its starter.`));
  if (backup) say(`  Your previous files are in ${repoPath(backup)}: copy back whatever you want to keep.`);
  say();
  sayNext('Next:', [
    [`${where}/README.md`, 'start the lesson again from its first step'],
    [npmRun(`check:${n}`), 'see which TODOs are left'],
  ]);
  return 0;
}

/** The lesson by number; a lesson whose folder the learner deleted still counts, to be restored. */
function lessonToReset(arg: string | undefined): Lesson {
  const facts = /^\d{1,2}$/.test(arg ?? '') ? LESSON_TABLE.find((row) => row.number === Number(arg)) : undefined;
  if (facts) {
    const lesson = withPaths(facts);
    if (!existsSync(lesson.lessonDir) && existsSync(starterFile(lesson)) && existsSync(lesson.solutionDir)) return lesson;
  }
  return findLesson(arg);
}

/** Asks on an interactive terminal; anything but "yes" (or no terminal at all) is a no. */
async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    say();
    say(yellow('reset needs a "yes", and there is no terminal to ask in.'));
    return false;
  }
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await prompt.question(`\n${question}`);
    return ['yes', 'y'].includes(answer.trim().toLowerCase());
  } catch {
    return false; // stdin closed
  } finally {
    prompt.close();
  }
}

/** Copies the current lesson folder to `.lab/backups/NN-slug-<timestamp>/`; undefined when there is no folder. */
export function backUp(lesson: Lesson): string | undefined {
  if (!existsSync(lesson.lessonDir)) return undefined;
  // A timestamp that is a valid folder name on Windows too (no colons).
  const stamp = new Date().toISOString().replace(/:/g, '-').replace(/\..*$/, '');
  let target = path.join(backupsDir(), `${lesson.folder}-${stamp}`);
  for (let extra = 2; existsSync(target); extra += 1) target = path.join(backupsDir(), `${lesson.folder}-${stamp}-${extra}`);
  mkdirSync(path.dirname(target), { recursive: true });
  cpSync(lesson.lessonDir, target, { recursive: true });
  return target;
}
