/**
 * Given files: the files of a lesson without a TODO in them. The learner does not write them, so the
 * starter's copy and the solution's must be byte-identical; otherwise a fix lands in one copy only.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoPath, type Lesson } from './lessons.ts';

/** Every file below `dir`, as paths relative to it. */
function filesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

/**
 * The given files of `lesson` (no `TODO` in the lessons/ copy) whose solutions/ copy is missing or
 * differs, as repository paths; empty when every given file is the same in both trees.
 *
 * @example
 * ```ts
 * differingGivenFiles(findLesson('4')); // [] or ['lessons/04-resource-server/pages.ts', …]
 * ```
 */
export function differingGivenFiles(lesson: Lesson): string[] {
  if (!existsSync(lesson.lessonDir)) return [];
  return filesBelow(lesson.lessonDir)
    .filter((file) => {
      const given = readFileSync(path.join(lesson.lessonDir, file));
      if (given.includes('TODO')) return false;
      const solution = path.join(lesson.solutionDir, file);
      return !existsSync(solution) || !given.equals(readFileSync(solution));
    })
    .map((file) => repoPath(path.join(lesson.lessonDir, file)));
}
