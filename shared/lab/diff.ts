/**
 * `npm run diff:N [-- --starter]`: the learner's files of lesson N next to the reference solution's, as a
 * coloured unified diff (`-` your line, `+` the solution's). With `--starter`, the fixed diff from the
 * shipped starter to the solution: everything the lesson asks you to write.
 *
 * Only the lesson's code is compared: the lesson text (`*.md`, the same in both folders) is left out,
 * and tests and configuration live elsewhere. The diff is computed here (a small longest-common-
 * subsequence line diff), so it needs no git and looks the same on every platform.
 */
import path from 'node:path';
import { findLesson, repoPath, type Lesson } from './lessons.ts';
import { bold, cyan, dim, green, LabError, npmRun, red, say, sayNext } from './output.ts';
import { normalize, readFolder, readStarter, starterFile } from './starters.ts';

export type DiffOp = ' ' | '-' | '+';

/** One line of a diff: kept, only in the old text, or only in the new one. */
export interface DiffLine {
  op: DiffOp;
  text: string;
}

/** The line diff of two texts: the longest common subsequence of lines is kept, the rest is - or +. */
export function diffLines(oldText: string, newText: string): DiffLine[] {
  const a = splitLines(oldText);
  const b = splitLines(newText);
  // Common head and tail first: lesson files differ in a few places, so the table below stays small.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start += 1;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA -= 1;
    endB -= 1;
  }
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const width = midB.length + 1;
  // lcs[i][j]: the length of the longest common subsequence of midA[i..] and midB[j..].
  const lcs = new Uint32Array((midA.length + 1) * width);
  for (let i = midA.length - 1; i >= 0; i -= 1) {
    for (let j = midB.length - 1; j >= 0; j -= 1) {
      lcs[i * width + j] = midA[i] === midB[j] ? lcs[(i + 1) * width + j + 1]! + 1 : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!);
    }
  }
  const lines: DiffLine[] = a.slice(0, start).map((text) => ({ op: ' ', text }));
  let i = 0;
  let j = 0;
  while (i < midA.length || j < midB.length) {
    if (i < midA.length && j < midB.length && midA[i] === midB[j]) {
      lines.push({ op: ' ', text: midA[i]! });
      i += 1;
      j += 1;
    } else if (j < midB.length && (i === midA.length || lcs[i * width + j + 1]! >= lcs[(i + 1) * width + j]!)) {
      lines.push({ op: '+', text: midB[j]! });
      j += 1;
    } else {
      lines.push({ op: '-', text: midA[i]! });
      i += 1;
    }
  }
  // Within a change, show what goes before what comes: all - lines, then all + lines.
  return [...groupChanges(lines), ...a.slice(endA).map((text) => ({ op: ' ' as const, text }))];
}

function groupChanges(lines: DiffLine[]): DiffLine[] {
  const out: DiffLine[] = [];
  let removed: DiffLine[] = [];
  let added: DiffLine[] = [];
  const flush = () => {
    out.push(...removed, ...added);
    removed = [];
    added = [];
  };
  for (const line of lines) {
    if (line.op === '-') removed.push(line);
    else if (line.op === '+') added.push(line);
    else {
      flush();
      out.push(line);
    }
  }
  flush();
  return out;
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = normalize(text).split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/**
 * A unified diff (`@@ -a,b +c,d @@` hunks with `context` lines around each change), without colour.
 * Empty when the texts have the same lines.
 */
export function unifiedDiff(oldText: string, newText: string, oldLabel: string, newLabel: string, context = 3): string[] {
  const lines = diffLines(oldText, newText);
  if (lines.every((line) => line.op === ' ')) return [];
  const out = [`--- ${oldLabel}`, `+++ ${newLabel}`];
  // Positions (in old and new) before each line.
  const positions: Array<[number, number]> = [];
  let oldLine = 1;
  let newLine = 1;
  for (const line of lines) {
    positions.push([oldLine, newLine]);
    if (line.op !== '+') oldLine += 1;
    if (line.op !== '-') newLine += 1;
  }
  const changed = lines.map((line, index) => (line.op === ' ' ? -1 : index)).filter((index) => index >= 0);
  let index = 0;
  while (index < changed.length) {
    const first = Math.max(0, changed[index]! - context);
    let last = Math.min(lines.length - 1, changed[index]! + context);
    while (index + 1 < changed.length && changed[index + 1]! - context <= last + 1) {
      index += 1;
      last = Math.min(lines.length - 1, changed[index]! + context);
    }
    index += 1;
    const hunk = lines.slice(first, last + 1);
    const [oldStart, newStart] = positions[first]!;
    const oldCount = hunk.filter((line) => line.op !== '+').length;
    const newCount = hunk.filter((line) => line.op !== '-').length;
    out.push(`@@ -${oldCount === 0 ? oldStart - 1 : oldStart},${oldCount} +${newCount === 0 ? newStart - 1 : newStart},${newCount} @@`);
    for (const line of hunk) out.push(`${line.op}${line.text}`);
  }
  return out;
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
