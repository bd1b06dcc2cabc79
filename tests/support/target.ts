/**
 * Which code the lesson tests run against, chosen by one switch:
 *
 *   LAB_TARGET=lessons    the learner's starter code (the default)
 *   LAB_TARGET=solutions  the reference solutions
 *   LAB_TARGET=<path>     the lessons/ folder of another workspace (or a folder holding NN-* lessons)
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LESSON_LOAD_ERROR } from '../../shared/lab/suiteRun.ts';

export const WORKSPACE_ROOT = path.resolve(import.meta.dirname, '../..');

export function targetRoot(target = process.env.LAB_TARGET || 'lessons'): string {
  if (target === 'lessons' || target === 'solutions') return path.join(WORKSPACE_ROOT, target);
  const root = path.resolve(target);
  // A whole workspace was given: use its lessons/ folder.
  const lessons = path.join(root, 'lessons');
  return existsSync(lessons) ? lessons : root;
}

/** The folder of lesson `number` (e.g. 1 → …/01-open-server) under the current target. */
export function lessonDir(number: number, root = targetRoot()): string {
  const prefix = String(number).padStart(2, '0') + '-';
  const name = existsSync(root) ? readdirSync(root).find((entry) => entry.startsWith(prefix)) : undefined;
  if (!name) {
    throw new Error(
      `Lesson ${number} was not found in ${root}. Expected a folder named ${prefix}…; ` +
        'check LAB_TARGET, or restore the lesson with `npm run reset:' + number + '`.',
    );
  }
  return path.join(root, name);
}

/**
 * Imports a module of the lesson under test. When the learner's file cannot be loaded (a syntax
 * error, an exception at import), the error says which file and why, instead of a bare stack.
 */
export async function importLesson<T = Record<string, unknown>>(number: number, file: string): Promise<T> {
  const fullPath = path.join(lessonDir(number), file);
  if (!existsSync(fullPath)) {
    throw new Error(`Expected the file ${fullPath}, but it does not exist. Did you rename or delete it?`);
  }
  try {
    return (await import(pathToFileURL(fullPath).href)) as T;
  } catch (error) {
    throw new LessonLoadError(`Could not load ${fullPath}: ${(error as Error).message}. Fix the error in that file and run the check again.`, {
      cause: error,
    });
  }
}

/**
 * The lesson's own file could not be loaded (a syntax error, an exception at import). Its `code` reaches
 * the lab reporter's test events, where `grade` and `mutants` tell "broken code" from "a failing test".
 */
export class LessonLoadError extends Error {
  static readonly code = LESSON_LOAD_ERROR;
  readonly code = LESSON_LOAD_ERROR;
  override name = 'LessonLoadError';
}

/** Fetches an export, with a message that names the file and the export when it is missing. */
export function requireExport<T>(module: Record<string, unknown>, name: string, file: string): T {
  const value = module[name];
  if (value === undefined) {
    throw new Error(`Expected ${file} to export "${name}", but it does not. Keep the export the starter code declares.`);
  }
  return value as T;
}
