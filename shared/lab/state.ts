/**
 * The lab's local state, in the git-ignored `.lab/` folder (LAB_STATE_DIR moves it): the latest check
 * results per lesson, where the learner is in the hints, and the backups that `reset:N` makes.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, type Lesson } from './lessons.ts';

/** `.lab/` of the repository (or LAB_STATE_DIR, relative to the repository root). */
export function stateDir(root = ROOT): string {
  return path.resolve(root, process.env.LAB_STATE_DIR || '.lab');
}

/** The lab reporter's events of the latest `check:N` (test results and the server's logs): the evidence `progress` and `hint:N` read. */
export function checkEventsFile(lesson: Pick<Lesson, 'folder'>, root = ROOT): string {
  return path.join(stateDir(root), 'checks', `${lesson.folder}.events.ndjson`);
}

/** Where `reset:N` keeps copies of what it replaced. */
export function backupsDir(root = ROOT): string {
  return path.join(stateDir(root), 'backups');
}

/** Reads a JSON state file; a missing or damaged file gives `fallback` (state is a convenience, never fatal). */
export function readJsonState<T>(file: string, fallback: T): T {
  if (!existsSync(file)) return fallback;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return fallback;
  }
}

/** Writes a JSON state file, creating its folder. */
export function writeJsonState(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}
