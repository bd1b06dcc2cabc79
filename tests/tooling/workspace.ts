/**
 * Temporary workspaces for the tests of the lab tooling: a copy of this repository with lesson 1 only
 * (so the tests do not depend on lessons still being written), whose `node_modules` is a symlink (a
 * junction on Windows) to this repository's. Commands run in them as a learner would run them, with
 * the copy's own `shared/lab/cli.ts`, so everything they write (`.lab/`, backups, restored files)
 * lands in the copy.
 *
 * Why a copy in the temp folder rather than a git-ignored folder inside the repository: the commands
 * find their repository from their own location, so a full copy exercises them exactly as in a clone,
 * and nothing a test leaves behind can reach this repository's lessons or state.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REPO = path.resolve(import.meta.dirname, '../..');
export const LESSON_1 = '01-open-server';

const created: string[] = [];

/** Copies the parts of the repository the commands need, with lesson 1 only. */
export function makeWorkspace(): string {
  const ws = mkdtempSync(path.join(os.tmpdir(), 'lab-tooling-'));
  created.push(ws);
  for (const file of ['package.json', 'tsconfig.json', 'vitest.config.ts', 'grading.json']) {
    cpSync(path.join(REPO, file), path.join(ws, file));
  }
  cpSync(path.join(REPO, 'shared'), path.join(ws, 'shared'), {
    recursive: true,
    // Only lesson 1's demo, hints and starter: other lessons are not in this copy.
    filter: (source) => !/[\\/](demos|hints|starters)[\\/](?!01-)[^\\/]+$/.test(source),
  });
  cpSync(path.join(REPO, 'tests', 'support'), path.join(ws, 'tests', 'support'), { recursive: true });
  mkdirSync(path.join(ws, 'tests', 'lessons'), { recursive: true });
  cpSync(path.join(REPO, 'tests', 'lessons', `${LESSON_1}.test.ts`), path.join(ws, 'tests', 'lessons', `${LESSON_1}.test.ts`));
  for (const kind of ['lessons', 'solutions']) {
    cpSync(path.join(REPO, kind, LESSON_1), path.join(ws, kind, LESSON_1), { recursive: true });
  }
  symlinkSync(path.join(REPO, 'node_modules'), path.join(ws, 'node_modules'), 'junction');
  return ws;
}

/** A folder with only `lessons/01-open-server`, holding the starter or the solution: a submission to grade. */
export function makeSubmission(name: string, from: 'lessons' | 'solutions'): string {
  const parent = mkdtempSync(path.join(os.tmpdir(), 'lab-submission-'));
  created.push(parent);
  const ws = path.join(parent, name);
  cpSync(path.join(REPO, from, LESSON_1), path.join(ws, 'lessons', LESSON_1), { recursive: true });
  return ws;
}

export function removeWorkspaces(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function lessonFile(ws: string, file: string, kind = 'lessons'): string {
  return path.join(ws, kind, LESSON_1, file);
}

export function read(file: string): string {
  return readFileSync(file, 'utf8');
}

export function write(file: string, text: string): void {
  writeFileSync(file, text);
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr, for messages. */
  all: string;
}

/**
 * Runs the workspace's lab CLI (`node --import tsx shared/lab/cli.ts …`), as `npm run` would, without
 * a terminal (so no colour, and stdin is not interactive) and without the caller's tenant settings.
 */
export function runCli(ws: string, args: string[], timeoutMs = 120_000): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(ENTRA_|EMULATOR_|LAB_|VITEST|NODE_OPTIONS$|FORCE_COLOR$)/.test(name) && name !== 'PORT') env[name] = value;
  }
  env.NO_COLOR = '1';
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', path.join(ws, 'shared', 'lab', 'cli.ts'), ...args],
      { cwd: ws, env, timeout: timeoutMs, maxBuffer: 20 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr, all: `${stdout}\n${stderr}` });
      },
    );
    child.stdin?.end();
  });
}
