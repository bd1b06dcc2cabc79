/**
 * The one way the lab runs tests and reads their results: vitest with the lab reporter
 * (labReporter.ts), read back as events. Used by `check:N`, `progress --recheck`, `grade`, `mutants`
 * (through sandbox.ts) and the self-test (`npm test`).
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './lessons.ts';
import { runNode, runNodeTree, vitestBin, type Finished } from './processes.ts';

/** The reporter module vitest loads by path. */
export const LAB_REPORTER = path.join(ROOT, 'shared', 'lab', 'labReporter.ts');

/** A finished test's state, as vitest names it. */
export type TestStatus = 'passed' | 'failed' | 'skipped' | 'pending';

/** The `code` of a test's error when the lesson's own file could not be loaded (tests/support/target.ts). */
export const LESSON_LOAD_ERROR = 'ERR_LESSON_LOAD';

/** A finished test, as the lab reporter wrote it. */
export interface TestEvent {
  kind: 'test';
  id: string;
  file: string;
  /** The test's own title. */
  name: string;
  /** Suite titles and the test title joined with " > ". */
  fullName: string;
  status: TestStatus;
  /** The first line of the first error: the learner-facing message of a failed test. */
  message: string;
  /** The first error's `code`, when it has one (LESSON_LOAD_ERROR, jose's ERR_JWT_…, …). */
  code?: string;
  durationMs: number;
}

/** Console output of the code under test, with the id of the test that was running (if any). */
export interface LogEvent {
  kind: 'log';
  taskId: string | null;
  stream: 'stdout' | 'stderr';
  content: string;
}

/** A test file that could not run, or an error outside any test. */
export interface ErrorEvent {
  kind: 'error';
  file: string | null;
  message: string;
  /** The error's `code`, when it has one. */
  code?: string;
}

/** Everything one run's events file holds, by kind. */
export interface RunEvents {
  tests: TestEvent[];
  logs: LogEvent[];
  errors: ErrorEvent[];
  /** False when vitest never reported the end of the run: it crashed or was killed. */
  ended: boolean;
}

/** What a run's events add up to. */
export interface TestCounts {
  total: number;
  passed: number;
  failed: number;
  /** The failed tests, in the order they finished. */
  failures: TestEvent[];
  /** True when every test passed, there was at least one, nothing failed outside a test, and the run ended. */
  allPassed: boolean;
}

/** Adds up a run's events: how many tests ran, passed and failed, and whether the run passed as a whole. */
export function countTests(events: RunEvents): TestCounts {
  const failures = events.tests.filter((test) => test.status === 'failed');
  const passed = events.tests.filter((test) => test.status === 'passed').length;
  const total = events.tests.length;
  return { total, passed, failed: failures.length, failures, allPassed: events.ended && total > 0 && failures.length === 0 && events.errors.length === 0 };
}

/** Reads an events file; what a killed run left behind is read as far as it goes. */
export function readRunEvents(file: string): RunEvents {
  const events: RunEvents = { tests: [], logs: [], errors: [], ended: false };
  if (!existsSync(file)) return events;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    let event: { kind?: string };
    try {
      event = JSON.parse(line) as { kind?: string };
    } catch {
      continue; // A line cut short by a kill.
    }
    if (event.kind === 'test') events.tests.push(event as TestEvent);
    else if (event.kind === 'log') events.logs.push(event as LogEvent);
    else if (event.kind === 'error') events.errors.push(event as ErrorEvent);
    else if (event.kind === 'end') events.ended = true;
  }
  return events;
}

/** How to run a suite once (see `runSuite`). */
export interface SuiteOptions {
  /** Test files or folders, relative to `cwd` (e.g. tests/lessons/01-open-server.test.ts). */
  tests: string[];
  /** LAB_TARGET for the tests: lessons, solutions, or a workspace path; unset for tests of the tooling. */
  target?: string;
  /** Where the lab reporter writes its events (the file is replaced). */
  eventsFile: string;
  /** The repository whose vitest config and tests run (default: this one). */
  cwd?: string;
  /**
   * `capture`: quiet, output kept for when something goes wrong. `isolated`: the same, in its own
   * process group with a hard time limit (for code that may hang).
   */
  mode: 'capture' | 'isolated';
  timeoutMs: number;
  /** The environment (LAB_TARGET and LAB_EVENTS_FILE are added). */
  env?: NodeJS.ProcessEnv;
  /** More vitest arguments (`--bail=1`, `--config …`, `--reporter=default` to keep vitest's own output). */
  vitestArgs?: string[];
}

/** How the vitest process ended, and its events. */
export interface SuiteRun extends Finished {
  events: RunEvents;
}

/**
 * Runs vitest once on `options.tests` and reads back its events. A run that crashes, times out or is
 * killed still returns the events of the tests that finished (`events.ended` is then false).
 */
export async function runSuite(options: SuiteOptions): Promise<SuiteRun> {
  mkdirSync(path.dirname(options.eventsFile), { recursive: true });
  rmSync(options.eventsFile, { force: true });
  const args = [vitestBin(), 'run', ...options.tests, `--reporter=${LAB_REPORTER}`, ...(options.vitestArgs ?? [])];
  const env: NodeJS.ProcessEnv = { ...(options.env ?? process.env), LAB_EVENTS_FILE: options.eventsFile, NO_COLOR: '1' };
  if (options.target) env.LAB_TARGET = options.target;
  const finished =
    options.mode === 'isolated'
      ? await runNodeTree(args, { env, cwd: options.cwd, timeoutMs: options.timeoutMs })
      : await runNode(args, { env, capture: true, timeoutMs: options.timeoutMs });
  return { ...finished, events: readRunEvents(options.eventsFile) };
}

/**
 * The environment for tests of untrusted or learner code: this process's environment without the
 * settings that would point lessons at a real tenant, another port or our own state (the compile
 * cache in our node_modules included, see compileCache.ts).
 */
export function cleanTestEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(ENTRA_|EMULATOR_|LAB_)/.test(name) || ['PORT', 'BASE_URL', 'NODE_COMPILE_CACHE'].includes(name)) continue;
    env[name] = value;
  }
  return { ...env, ...extra };
}
