/**
 * The lesson registry: one small table of facts per lesson, joined with the folders that exist.
 *
 * Adding lesson N takes a folder (`lessons/NN-slug`, `solutions/NN-slug`, `tests/lessons/NN-slug.test.ts`),
 * a row in LESSON_TABLE, its script lines in package.json (`lesson:N`, `solution:N`, `check:N`,
 * `check:N:watch`, `hint:N`, `diff:N`, `reset:N`), hints in `shared/lab/hints/NN-slug.md`, and a copy of
 * its starter for reset:N (`npx tsx shared/lab/cli.ts starters --update`). The lab CLI, `progress`,
 * `grade` and the self-test find everything else from here.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { LabError } from './output.ts';

/** The repository root (this file is `shared/lab/lessons.ts`). */
export const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * How learners start MCP Inspector: 2.x, pinned to the version the e2e suite drives (e2e/package.json;
 * a test there checks they agree). It needs Node.js 22.19+; older Node.js makes npx pick a 0.x.
 */
export const INSPECTOR_VERSION = '2.12.0';
/** The command learners run to start Inspector, with the pinned version. */
export const INSPECTOR_COMMAND = `npx @modelcontextprotocol/inspector@${INSPECTOR_VERSION}`;

/** How a lesson's server talks MCP: Streamable HTTP on a port, or stdio as a child of its client. */
export type Transport = 'http' | 'stdio';

/** What the lab tooling must know about a lesson beyond its folder. */
export interface LessonFacts {
  number: number;
  /** The folder name without its number: `01-open-server` has the slug `open-server`. */
  slug: string;
  title: string;
  /** `http`: `lesson:N` starts the server and waits for its port. `stdio`: the lesson's demo spawns it. */
  transport: Transport;
  /** Offline, users sign in at the Entra ID emulator, so `lesson:N` starts it first. */
  needsEmulator: boolean;
  /** Offline, the lesson process calls Microsoft Graph and must preload the Graph bridge. */
  needsGraphBridge: boolean;
  /** Variables the lesson needs with a real tenant (ENTRA_TENANT_ID set), checked before it starts. */
  tenantEnv: readonly string[];
  /** Offline, `lesson:N` first makes the API's certificate and registers it at the emulator (lesson 5). */
  offlineCertificate?: boolean;
  /**
   * The lesson's tests start processes (a stdio server, redis-server), so `grade` lets its runs start
   * child processes, which weakens their sandbox (see sandbox.ts and the README, "For instructors").
   */
  testsStartProcesses?: boolean;
}

/** One row per lesson, in learning order. */
export const LESSON_TABLE: readonly LessonFacts[] = [
  {
    number: 1,
    slug: 'open-server',
    title: 'The open server',
    transport: 'http',
    needsEmulator: false,
    needsGraphBridge: false,
    tenantEnv: [],
  },
  {
    number: 2,
    slug: 'stdio-public-client',
    title: 'A local stdio server with an MSAL public client',
    transport: 'stdio',
    needsEmulator: true,
    needsGraphBridge: true,
    tenantEnv: ['ENTRA_PUBLIC_CLIENT_ID'],
    testsStartProcesses: true,
  },
  {
    number: 3,
    slug: 'remote-confidential-client',
    title: 'A remote server with a confidential client',
    transport: 'http',
    needsEmulator: true,
    needsGraphBridge: true,
    tenantEnv: ['ENTRA_WEB_CLIENT_ID', 'ENTRA_WEB_CLIENT_SECRET'],
  },
  {
    number: 4,
    slug: 'resource-server',
    title: 'The MCP server as a resource server (PRM, jose, On-Behalf-Of)',
    transport: 'http',
    needsEmulator: true,
    needsGraphBridge: true,
    tenantEnv: ['ENTRA_API_CLIENT_ID', 'ENTRA_API_CLIENT_SECRET', 'ENTRA_MCP_CLIENT_ID'],
  },
  {
    number: 5,
    slug: 'secretless-production',
    title: 'Secretless and production-ready',
    transport: 'http',
    needsEmulator: true,
    needsGraphBridge: true,
    // The credential's own variables depend on ENTRA_API_CREDENTIAL; main.ts names a missing one.
    tenantEnv: ['ENTRA_API_CLIENT_ID', 'ENTRA_MCP_CLIENT_ID', 'ENTRA_API_CREDENTIAL'],
    offlineCertificate: true,
    testsStartProcesses: true,
  },
  {
    number: 6,
    slug: 'sdk-v2',
    title: 'The resource server on MCP SDK v2',
    transport: 'http',
    needsEmulator: true,
    needsGraphBridge: true,
    tenantEnv: ['ENTRA_API_CLIENT_ID', 'ENTRA_API_CLIENT_SECRET', 'ENTRA_MCP_CLIENT_ID'],
  },
];

/** A lesson whose starter folder exists, with the paths the tooling uses. */
export interface Lesson extends LessonFacts {
  /** `NN-slug`, the same name under lessons/, solutions/ and tests/lessons/. */
  folder: string;
  lessonDir: string;
  solutionDir: string;
  /** The suite, e.g. `tests/lessons/01-open-server.test.ts` (absolute). */
  testFile: string;
  /** The optional demo run by `lesson:N` once the server listens. */
  demoFile: string;
}

/** Which copy of a lesson: the learner's (`lessons/`) or the reference (`solutions/`). */
export type CodeKind = 'lessons' | 'solutions';

/** `NN-slug` for a table row. */
export function folderName(facts: LessonFacts): string {
  return `${String(facts.number).padStart(2, '0')}-${facts.slug}`;
}

/** A table row with its paths, whether or not its folders exist (reset:N restores a deleted folder). */
export function withPaths(facts: LessonFacts, root = ROOT): Lesson {
  const folder = folderName(facts);
  return {
    ...facts,
    folder,
    lessonDir: path.join(root, 'lessons', folder),
    solutionDir: path.join(root, 'solutions', folder),
    testFile: path.join(root, 'tests', 'lessons', `${folder}.test.ts`),
    demoFile: path.join(root, 'demos', `${folder}.ts`),
  };
}

/** The `NN-*` folders directly under `dir` (none when it does not exist). */
export function numberedFolders(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => /^\d{2}-/.test(name) && statSync(path.join(dir, name)).isDirectory())
    .sort();
}

/** Lessons present in this repository: a row in the table and a folder under lessons/. */
export function availableLessons(root = ROOT): Lesson[] {
  const folders = new Set(numberedFolders(path.join(root, 'lessons')));
  return LESSON_TABLE.filter((facts) => folders.has(folderName(facts))).map((facts) => withPaths(facts, root));
}

/** `NN-*` folders under lessons/ or solutions/ that have no row in the table (an authoring mistake). */
export function unregisteredFolders(root = ROOT): string[] {
  const known = new Set(LESSON_TABLE.map(folderName));
  const found = ['lessons', 'solutions'].flatMap((kind) =>
    numberedFolders(path.join(root, kind))
      .filter((name) => !known.has(name))
      .map((name) => `${kind}/${name}`),
  );
  return found;
}

/** "1 (The open server), 2 (…)": the lessons that exist, for error messages. */
export function describeAvailable(root = ROOT): string {
  const lessons = availableLessons(root);
  if (lessons.length === 0) return 'there are no lessons in lessons/ yet';
  return lessons.map((lesson) => `${lesson.number} (${lesson.title})`).join(', ');
}

/**
 * The lesson named by a command-line argument such as `1` or `01`.
 * Throws a LabError with one line that lists the lessons that exist.
 */
export function findLesson(arg: string | undefined, root = ROOT): Lesson {
  const available = `Lessons you can use: ${describeAvailable(root)}.`;
  if (arg === undefined || !/^\d{1,2}$/.test(arg)) {
    const seen = arg === undefined ? 'No lesson number was given' : `"${arg}" is not a lesson number`;
    throw new LabError(`${seen}. ${available}`);
  }
  const number = Number(arg);
  const facts = LESSON_TABLE.find((row) => row.number === number);
  const lesson = availableLessons(root).find((row) => row.number === number);
  if (lesson) return lesson;
  if (facts) throw new LabError(`Lesson ${number} (${facts.title}) is not in this repository yet. ${available}`);
  throw new LabError(`There is no lesson ${number}. ${available}`);
}

/** The next lesson after `lesson` that exists, if any. */
export function nextLesson(lesson: LessonFacts, root = ROOT): Lesson | undefined {
  return availableLessons(root).find((row) => row.number > lesson.number);
}

/** A path relative to the repository root with forward slashes, for messages and commands. */
export function repoPath(file: string, root = ROOT): string {
  return path.relative(root, file).split(path.sep).join('/');
}
