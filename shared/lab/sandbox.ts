/**
 * A scratch sandbox for one run of one lesson's tests against code nobody has read (a learner's
 * submission in `grade`, a mutant of a solution in `mutants`).
 *
 * Layout, all in a fresh temporary folder:
 *
 *   <sandbox>/lessons/NN-slug      the code under test (a copy: the source folder is only read)
 *   <sandbox>/tests/…              this lesson's test file, tests/support, and a wrapper with two sentinels
 *   <sandbox>/shared/              the workshop's shared code, from a copy frozen before any run
 *   <sandbox>/node_modules         a link to the grader's dependencies
 *   <sandbox>/.lab  <sandbox>/tmp  LAB_STATE_DIR and TMPDIR of the run
 *   <private>/                     outside the sandbox: the results the reporter writes, the gate's log
 *
 * vitest runs with the sandbox as its working directory. Its workers, where the code under test runs,
 * are started under Node's permission model: they may read only the lesson, shared/, their state, their
 * temporary folder and node_modules, and write only the lesson, their state and temporary folder; child
 * processes only for a lesson that needs them (a stdio server). Test files reach the workers through
 * vitest's module runner, served by the main process, which refuses (and logs) any module outside the
 * sandbox and node_modules. Results travel from the main process to a file the workers can neither read
 * nor write. See README, "For instructors", for what this does and does not protect.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, type Lesson } from './lessons.ts';
import { cleanTestEnv, LAB_REPORTER, runSuite, type SuiteRun } from './suiteRun.ts';

/** What a sandbox gets from the grader's checkout, copied once into a frozen folder before any run. */
const GRADER_FILES = ['tests/support', 'shared', 'package.json', 'tsconfig.json'];

/** Copies the grader's files a sandbox needs (every lesson's tests included) into `dir`, once per room. */
export function freezeGraderFiles(dir: string, lessons: Lesson[]): string {
  const skip = (source: string) => !/[\\/](node_modules|\.git)$/.test(source);
  for (const entry of GRADER_FILES) {
    if (existsSync(path.join(ROOT, entry))) cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true, filter: skip });
  }
  for (const lesson of lessons) cpSync(lesson.testFile, path.join(dir, 'tests', 'lessons', path.basename(lesson.testFile)));
  return dir;
}

/** A scratch folder for one run of one lesson of one workspace, and what the grader checks after it. */
export interface Sandbox {
  root: string;
  /** The folder the grader keeps for itself: results, the module gate's log. Not inside `root`. */
  privateDir: string;
  lesson: Lesson;
  /** The copy of the code under test. */
  lessonDir: string;
  /** The wrapper test file vitest runs, relative to `root`. */
  testFile: string;
  /** Names of the two tests that always fail, one before the lesson's tests and one after (none when off). */
  sentinels: string[];
  /** Marks the lines the permission guard writes to stderr. */
  guardTag: string;
  /** The grader's files in the sandbox (tests, shared, config), for a before/after comparison. */
  graderPaths: string[];
}

function nonce(): string {
  return randomBytes(9).toString('hex');
}

/**
 * Builds a sandbox in `dir` (which must not exist yet) for `lesson`, with the code of `lessonSource`
 * (a lesson folder: a workspace's `lessons/NN-slug`, or `solutions/NN-slug`). Without `sentinels`
 * (code we wrote ourselves, run with `--bail`), the wrapper only imports the lesson's tests.
 */
export function prepareSandbox(dir: string, frozen: string, lesson: Lesson, lessonSource: string, options: { sentinels?: boolean } = {}): Sandbox {
  const root = path.join(dir, 'sandbox');
  const privateDir = path.join(dir, 'private');
  mkdirSync(privateDir, { recursive: true });
  const skip = (source: string) => !/[\\/](node_modules|\.git|\.lab)$/.test(source);
  for (const entry of GRADER_FILES) {
    if (existsSync(path.join(frozen, entry))) cpSync(path.join(frozen, entry), path.join(root, entry), { recursive: true });
  }
  const testName = path.basename(lesson.testFile);
  cpSync(path.join(frozen, 'tests', 'lessons', testName), path.join(root, 'tests', 'lessons', testName));
  const lessonDir = path.join(root, 'lessons', lesson.folder);
  cpSync(lessonSource, lessonDir, { recursive: true, filter: skip, dereference: false });
  // A junction needs no special rights on Windows; elsewhere the type is ignored.
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'), 'junction');
  for (const folder of ['.lab', 'tmp', 'guard']) mkdirSync(path.join(root, folder), { recursive: true });

  // The sentinels: tests with unguessable names that always fail. A run that reports one as passed,
  // or leaves one out while tests pass, had its reporting changed from inside.
  const sentinels = options.sentinels === false ? [] : [`integrity check ${nonce()}`, `integrity check ${nonce()}`];
  const sentinel = (name: string | undefined) => (name ? [`it(${JSON.stringify(name)}, () => { throw new Error('this test always fails'); });`] : []);
  const wrapper = `${lesson.folder}.graded.test.ts`;
  writeFileSync(
    path.join(root, 'tests', 'lessons', wrapper),
    ["import { it } from 'vitest';", ...sentinel(sentinels[0]), `await import(${JSON.stringify(`./${testName}`)});`, ...sentinel(sentinels[1]), ''].join('\n'),
  );
  const guardTag = `lab-guard-${nonce()}`;
  writeFileSync(path.join(root, 'guard', 'guard.mjs'), guardSource(guardTag));
  writeFileSync(path.join(root, 'vitest.config.mjs'), configSource(root, privateDir, lesson));
  return {
    root,
    privateDir,
    lesson,
    lessonDir,
    testFile: path.posix.join('tests', 'lessons', wrapper),
    sentinels,
    guardTag,
    graderPaths: ['tests', 'shared', 'guard', 'vitest.config.mjs', 'package.json', 'tsconfig.json'].map((entry) => path.join(root, entry)),
  };
}

/** `--permission`, or its name before Node 22.13. */
function permissionFlag(): string {
  return process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission';
}

/** The Node arguments of a sandbox's test workers: the permission model and the guard, preloaded. */
export function workerArgs(root: string, lesson: Pick<Lesson, 'testsStartProcesses'>): string[] {
  const modules = path.join(ROOT, 'node_modules');
  const read = [
    path.join(root, 'lessons'),
    path.join(root, 'shared'),
    path.join(root, '.lab'),
    path.join(root, 'tmp'),
    path.join(root, 'guard'),
    path.join(root, 'node_modules'),
    modules,
    realpathSync(modules),
  ];
  const write = [path.join(root, 'lessons'), path.join(root, '.lab'), path.join(root, 'tmp')];
  return [
    permissionFlag(),
    ...[...new Set(read)].map((dir) => `--allow-fs-read=${dir}`),
    ...write.map((dir) => `--allow-fs-write=${dir}`),
    // Worker threads are bound by the same permissions (tsx runs its loader in one).
    '--allow-worker',
    // Some lessons' tests start processes (a stdio server, redis-server). Node passes the permission model
    // on to child Node processes, not to other programs: see the README on what that leaves open.
    ...(lesson.testsStartProcesses ? ['--allow-child-process'] : []),
    '--import',
    pathToFileURL(path.join(root, 'guard', 'guard.mjs')).href,
  ];
}

/**
 * The vitest config of a sandbox (plain ESM, loaded without bundling, so nothing is written next to
 * it): the repository's test settings, the workers' arguments, and the module gate.
 */
function configSource(root: string, privateDir: string, lesson: Lesson): string {
  // The lab reporter runs in the main process, which loads it through the same pipeline.
  const allowed = [root, realpathSync(path.join(ROOT, 'node_modules')), LAB_REPORTER];
  return `// Written by the grader for one run; see shared/lab/sandbox.ts.
import { appendFileSync } from 'node:fs';
import path from 'node:path';

const slash = (file) => file.replaceAll('\\\\', '/');
const allowed = ${JSON.stringify(allowed)}.map(slash);
const inside = (file) => allowed.some((root) => file === root || file.startsWith(root + '/'));

export default {
  cacheDir: ${JSON.stringify(path.join(privateDir, 'vite-cache'))},
  plugins: [
    {
      // Test workers load modules through the main process: serve nothing from outside the sandbox.
      name: 'lab-sandbox-gate',
      enforce: 'pre',
      load(id) {
        const file = slash(id.split('?')[0]);
        if (!path.isAbsolute(file) || inside(file)) return null;
        appendFileSync(${JSON.stringify(path.join(privateDir, 'gate.ndjson'))}, JSON.stringify({ file }) + '\\n');
        throw new Error('The grading sandbox does not serve ' + file + '.');
      },
    },
  ],
  test: {
    include: [${JSON.stringify(`tests/lessons/${lesson.folder}.graded.test.ts`)}],
    setupFiles: ['tests/support/setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    execArgv: ${JSON.stringify(workerArgs(root, lesson))},
    resolveSnapshotPath: () => ${JSON.stringify(path.join(root, '.lab', 'snapshots', 'none.snap'))},
  },
};
`;
}

/**
 * Preloaded in every test worker: reports each file access the permission model refused, on stderr,
 * with a tag. Code that checks `process.permission.has()` first is never refused, and reads nothing.
 */
function guardSource(tag: string): string {
  return `// Written by the grader for one run; see shared/lab/sandbox.ts.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const writeSync = fs.writeSync;
const note = (error) => {
  if (error?.code !== 'ERR_ACCESS_DENIED') return;
  try {
    writeSync(2, '\\n${tag} ' + JSON.stringify({ permission: error.permission, resource: String(error.resource ?? '') }) + '\\n');
  } catch {}
};
function wrap(target) {
  for (const name of Object.keys(target)) {
    const original = target[name];
    if (typeof original !== 'function' || /^[A-Z]/.test(name)) continue;
    const wrapped = function (...args) {
      const last = args.at(-1);
      if (typeof last === 'function' && !name.endsWith('Sync')) {
        args[args.length - 1] = function (error, ...rest) {
          note(error);
          return last.call(this, error, ...rest);
        };
      }
      try {
        const result = original.apply(this, args);
        return result instanceof Promise ? result.catch((error) => { note(error); throw error; }) : result;
      } catch (error) {
        note(error);
        throw error;
      }
    };
    for (const key of Reflect.ownKeys(original)) {
      if (!['length', 'name', 'prototype'].includes(key)) wrapped[key] = original[key];
    }
    target[name] = wrapped;
  }
}
wrap(fs);
wrap(fs.promises);
syncBuiltinESMExports();
`;
}

/** A suite run in a sandbox, with what the sandbox refused during it. */
export interface SandboxRun extends SuiteRun {
  /** Modules outside the sandbox that the code asked the module runner for (refused). */
  refusedModules: string[];
  /** File accesses the permission model refused in a test worker. */
  refusedAccess: Array<{ permission: string; resource: string }>;
}

/** Runs the sandbox's tests in vitest, with its own state and temporary folder, under a time limit. */
export async function runInSandbox(sandbox: Sandbox, timeoutMs: number, vitestArgs: string[] = []): Promise<SandboxRun> {
  const { root, privateDir } = sandbox;
  const tmp = path.join(root, 'tmp');
  // No PORT or EMULATOR_PORT: the tests start every server on a free port themselves, and the offline
  // tenant answers in-process at its default address, so runs side by side never share a port.
  const env = cleanTestEnv({ LAB_STATE_DIR: path.join(root, '.lab'), TMPDIR: tmp, TMP: tmp, TEMP: tmp });
  delete env.NODE_OPTIONS;
  const run = await runSuite({
    tests: [sandbox.testFile],
    target: 'lessons',
    cwd: root,
    eventsFile: path.join(privateDir, 'events.ndjson'),
    mode: 'isolated',
    timeoutMs,
    env,
    vitestArgs: ['--config', path.join(root, 'vitest.config.mjs'), '--configLoader', 'runner', ...vitestArgs],
  });
  const gateLog = path.join(privateDir, 'gate.ndjson');
  const refusedModules = existsSync(gateLog)
    ? readFileSync(gateLog, 'utf8').split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { file: string }).file)
    : [];
  const refusedAccess = run.output
    .split('\n')
    .filter((line) => line.startsWith(`${sandbox.guardTag} `))
    .flatMap((line) => {
      try {
        return [JSON.parse(line.slice(sandbox.guardTag.length + 1)) as { permission: string; resource: string }];
      } catch {
        return [];
      }
    });
  return { ...run, refusedModules: [...new Set(refusedModules)], refusedAccess };
}

/** Deletes the sandbox and everything the run wrote into it. */
export function removeSandbox(sandbox: Sandbox): void {
  rmSync(path.dirname(sandbox.root), { recursive: true, force: true });
}
