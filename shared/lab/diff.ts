/**
 * `npm run diff:N [-- --starter]`: the learner's files of lesson N next to the reference solution's, as a
 * coloured unified diff (`-` your line, `+` the solution's). With `--starter`, the fixed diff from the
 * shipped starter to the solution: everything the lesson asks you to write.
 *
 * Only the lesson's code is compared: the lesson text (`*.md`, the same in both folders) is left out,
 * and tests and configuration live elsewhere. The diff is computed by jsdiff, so it needs no git and
 * looks the same on every platform.
 */
import path from 'node:path';
import { structuredPatch } from 'diff';
import { findLesson, repoPath, type Lesson } from './lessons.ts';
import { bold, cyan, dim, green, LabError, npmRun, red, say, sayNext } from './output.ts';
import { normalize, readFolder, readStarter, starterFile } from './starters.ts';

/**
 * A unified diff (`@@ -a,b +c,d @@` hunks with `context` lines around each change), without colour,
 * computed by jsdiff. Windows line endings compare equal to `\n`. Empty when the texts are equal.
 *
 * @example unifiedDiff('a\nb\n', 'a\nB\n', 'old', 'new') // ['--- old', '+++ new', '@@ -1,2 +1,2 @@', ' a', '-b', '+B']
 */
export function unifiedDiff(oldText: string, newText: string, oldLabel: string, newLabel: string, context = 3): string[] {
  const patch = structuredPatch(oldLabel, newLabel, normalize(oldText), normalize(newText), undefined, undefined, { context });
  if (patch.hunks.length === 0) return [];
  return [
    `--- ${oldLabel}`,
    `+++ ${newLabel}`,
    ...patch.hunks.flatMap((hunk) => [`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`, ...hunk.lines]),
  ];
}

/** Colours a unified diff line for the terminal (plain when NO_COLOR is set or output is not a terminal). */
function paintLine(line: string): string {
  if (line.startsWith('---') || line.startsWith('+++')) return bold(line);
  if (line.startsWith('@@')) return cyan(line);
  if (line.startsWith('-')) return red(line);
  if (line.startsWith('+')) return green(line);
  return line;
}

/** Only the lesson's code: the lesson text is the same in both folders and not the learner's work. */
function isCode(name: string): boolean {
  return !name.endsWith('.md');
}

/**
 * `npm run diff:N`: the learner's lesson files against the solution's (or, with `starter`, the shipped
 * starter against the solution: the whole of the learner's work). Returns the exit code.
 */
export function diffCommand(arg: string | undefined, options: { starter: boolean }): number {
  const lesson = findLesson(arg);
  const n = lesson.number;
  const solution = readFolder(lesson.solutionDir);
  if (solution.size === 0) throw new LabError(`${repoPath(lesson.solutionDir)} is missing, so there is nothing to compare with.`);
  const { files: mine, label } = options.starter ? starterFiles(lesson) : { files: readFolder(lesson.lessonDir), label: repoPath(lesson.lessonDir) };

  say(
    bold(
      options.starter
        ? `Lesson ${n}: from the starter to the solution (what the lesson asks you to write)`
        : `Lesson ${n}: your code next to the reference solution`,
    ),
  );
  say(dim(`- lines: ${options.starter ? 'the starter' : 'yours'} (${label})   + lines: the solution's (${repoPath(lesson.solutionDir)})`));
  say();

  const names = [...new Set([...mine.keys(), ...solution.keys()])].filter(isCode).sort();
  let differing = 0;
  const onlyMine: string[] = [];
  for (const name of names) {
    if (!solution.has(name)) {
      onlyMine.push(name);
      continue;
    }
    const lines = unifiedDiff(mine.get(name) ?? '', solution.get(name)!, `${label}/${name}`, `${repoPath(lesson.solutionDir)}/${name}`);
    if (lines.length === 0) continue;
    differing += 1;
    for (const line of lines) say(paintLine(line));
    say();
  }
  if (onlyMine.length > 0) say(dim(`Only in ${label} (not compared): ${onlyMine.join(', ')}`));
  if (differing === 0) say(green(options.starter ? 'The starter already equals the solution.' : 'Your code matches the reference solution, line for line.'));
  else say(dim(`${differing} file(s) differ.`));
  say();
  sayNext(
    'Next:',
    options.starter
      ? [
          [npmRun(`diff:${n}`), 'your own code next to the solution'],
          [npmRun(`check:${n}`), 'check your code against the tests'],
        ]
      : [
          [npmRun(`check:${n}`), 'check your code against the tests'],
          [`${npmRun(`diff:${n}`)} -- --starter`, 'the whole starter-to-solution diff instead'],
          [npmRun(`hint:${n}`), 'a hint, if you would rather not read the solution'],
        ],
  );
  return 0;
}

function starterFiles(lesson: Lesson): { files: Map<string, string>; label: string } {
  const starter = readStarter(lesson);
  if (!starter) throw new LabError(`The workshop has no copy of lesson ${lesson.number}'s starter (${repoPath(starterFile(lesson))}). Update the workshop (git pull).`);
  return { files: starter, label: `starter of ${path.posix.join('lessons', lesson.folder)}` };
}
