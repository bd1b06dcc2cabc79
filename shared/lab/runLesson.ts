/**
 * `npm run lesson:N` / `npm run solution:N`: run a lesson's code the way a learner would explore it.
 *
 * Reads the settings, starts the Entra ID emulator when the lesson needs it offline, starts the lesson's
 * `main.ts` as a child process, waits until it listens (HTTP lessons), runs the lesson's demo, then
 * prints how to connect MCP Inspector and keeps everything running until Ctrl+C.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { WorkshopConfig } from '../config.ts';
import { USERS } from '../emulator/directory.ts';
import { prepareOfflineCertificate } from '../offline/credentials.ts';
import { readConfig } from '../startup.ts';
import { runDemo, type ServerCommand } from './demo.ts';
import { startEmulator, type RunningEmulator } from './emulator.ts';
import { findLesson, INSPECTOR_COMMAND, repoPath, ROOT, type CodeKind, type Lesson } from './lessons.ts';
import { bold, dim, green, LabError, npmRun, say, sayError, sayNext, yellow } from './output.ts';
import {
  GRAPH_BRIDGE,
  listenForStop,
  portAcceptsConnections,
  spawnNode,
  stopChild,
  tsNodeArgs,
  waitForPort,
  type StopRequest,
} from './processes.ts';

/** How long an HTTP lesson may take to listen before we call it a failed start. */
const START_TIMEOUT_MS = 15_000;

/** Exit codes that mean "stopped by Ctrl+C": 130 (POSIX shells) and STATUS_CONTROL_C_EXIT (Windows). */
const CTRL_C_EXIT_CODES = new Set([130, 3221225786]);

/**
 * `npm run lesson:N` / `solution:N`: starts the emulator when the lesson needs it offline, then the
 * lesson's server (or, for a stdio lesson, its demo), and runs until Ctrl+C. Resolves to the exit code.
 */
export async function runLesson(kind: CodeKind, arg: string | undefined): Promise<number> {
  // A ConfigError propagates to the CLI, which prints its one line.
  const config = readConfig(path.join(ROOT, '.env'));
  const lesson = findLesson(arg);
  const dir = kind === 'lessons' ? lesson.lessonDir : lesson.solutionDir;
  const entry = path.join(dir, 'main.ts');
  if (!existsSync(dir)) throw new LabError(`${repoPath(dir)} does not exist in this checkout, so there is nothing to run.`);
  if (!existsSync(entry)) {
    throw new LabError(`${repoPath(entry)} is missing: it is the file that starts the lesson. Restore it with git checkout -- ${repoPath(entry)}`);
  }
  const offline = config.mode === 'offline';
  if (!offline) requireTenantSettings(lesson);
  const preload = offline && lesson.needsGraphBridge ? [GRAPH_BRIDGE] : [];

  printHeader(lesson, kind, dir, config);
  const server: ServerCommand = {
    command: process.execPath,
    args: tsNodeArgs(entry, preload),
    cwd: ROOT,
    env: definedEnv(process.env),
  };
  const stop = listenForStop();
  const run = new LessonRun(lesson, kind, config, stop);
  try {
    if (lesson.transport === 'http' && (await portAcceptsConnections(config.port))) {
      throw new LabError(
        `Port ${config.port} is already in use. Is another npm run lesson:N or solution:N still running? ` +
          'Stop it with Ctrl+C in its terminal, or set PORT in .env (see .env.example).',
      );
    }
    if (offline && lesson.offlineCertificate) {
      for (const line of await prepareOfflineCertificate(config)) say(`  ${dim('offline ')} ${line}`);
    }
    if (offline && lesson.needsEmulator) await run.startEmulator();
    return lesson.transport === 'http' ? await run.http(server) : await run.stdio(server);
  } finally {
    await run.shutDown();
    stop.dispose();
  }
}

/** One run of a lesson: the children it started, and how it ends. */
class LessonRun {
  private emulator: RunningEmulator | undefined;
  private child: ChildProcess | undefined;

  constructor(
    private readonly lesson: Lesson,
    private readonly kind: CodeKind,
    private readonly config: WorkshopConfig,
    private readonly stop: StopRequest,
  ) {}

  async startEmulator(): Promise<void> {
    this.emulator = await startEmulator(this.config, { allowReuse: true, onEvent: (line) => say(`  ${dim('emulator ›')} ${line}`) });
    const how = this.emulator.reused ? 'already running, reused' : 'started for this run';
    say(`  ${dim('sign-in ')} ${this.emulator.url.origin} ${dim(`(the Entra ID emulator, ${how})`)}`);
    say(`  ${dim('users   ')} ${USERS.map((user) => user.userPrincipalName).join(', ')} ${dim('(pick one on the sign-in page)')}`);
  }

  /** HTTP lessons: start the server, wait for its port, demo, then keep it running. */
  async http(server: ServerCommand): Promise<number> {
    const { lesson, config } = this;
    say();
    const child = spawnNode(server.args, { env: server.env, stdio: 'inherit' });
    this.child = child;
    // If this process dies unexpectedly, do not leave the lesson's server holding the port.
    const killOnExit = () => child.kill();
    process.once('exit', killOnExit);
    child.once('exit', () => process.off('exit', killOnExit));

    const started = await Promise.race([
      waitForPort(config.port, child, START_TIMEOUT_MS),
      this.stop.requested.then(() => 'stopped' as const),
    ]);
    if (started === 'stopped') return this.stopped();
    if (started !== 'listening') {
      const why = started === 'timeout' ? ` (nothing listened on port ${config.port} within ${START_TIMEOUT_MS / 1000} s)` : '';
      sayError(
        this.kind === 'lessons'
          ? `Your server did not start${why} — read the error above, then run ${npmRun(`check:${lesson.number}`)}`
          : `The reference solution did not start${why} — read the error above.`,
      );
      return 1;
    }

    say();
    say(green(`✔ ${this.kind === 'lessons' ? 'Your' : 'The reference'} MCP server is listening at ${config.mcpUrl.href}`));
    const demo = await Promise.race([
      runDemo(lesson, { mcpUrl: config.mcpUrl, server, config }),
      this.stop.requested.then(() => 'stopped' as const),
    ]);
    if (demo === 'stopped') return this.stopped();

    say();
    sayNext('Next:', [
      [INSPECTOR_COMMAND, `in a second terminal (Node.js 22.19+): Add Servers → + Add manually, Transport streamable-http, URL ${config.mcpUrl.href}, Add, then flip its switch (the lesson README has the steps)`],
      ...this.checkAndSwitch(),
      ['Ctrl+C', this.emulator && !this.emulator.reused ? 'stop the server and the emulator' : 'stop the server'],
    ]);

    const ended = await Promise.race([
      this.stop.requested.then(() => 'stopped' as const),
      once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as string | null })),
    ]);
    if (ended === 'stopped') return this.stopped();
    // A Ctrl+C reaches the child too; give our own signal handler a moment to record that it was one.
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (this.stop.isRequested || ended.signal === 'SIGINT' || CTRL_C_EXIT_CODES.has(ended.code ?? -1)) return this.stopped();
    sayError(
      `${this.kind === 'lessons' ? 'Your' : 'The reference'} server stopped (${ended.signal ?? `exit code ${ended.code}`}). ` +
        `Read the error above, then run ${npmRun(`check:${lesson.number}`)} to see what fails.`,
    );
    return 1;
  }

  /** stdio lessons: the demo spawns the server; afterwards show how MCP Inspector would spawn it. */
  async stdio(server: ServerCommand): Promise<number> {
    const { lesson, config } = this;
    const demo = await Promise.race([
      runDemo(lesson, { mcpUrl: config.mcpUrl, server, config }),
      this.stop.requested.then(() => 'stopped' as const),
    ]);
    if (demo === 'stopped') return this.stopped();
    if (demo === 'none') {
      say();
      say(dim(`Lesson ${lesson.number} has no demo yet: its server talks over stdin/stdout, so an MCP client starts it.`));
    }
    // An MCP client spawns the server itself, from its own working folder: absolute paths only.
    const spawnLine = [process.execPath, ...server.args].map((arg) => (/\s/.test(arg) ? `"${arg}"` : arg)).join(' ');
    const keepsEmulator = this.emulator !== undefined && !this.emulator.reused;
    say();
    sayNext('Next:', [
      demo === 'none'
        ? [`${INSPECTOR_COMMAND} -- ${spawnLine}`, 'Inspector starts the server itself; flip the switch on its card to connect']
        : ['the configuration blocks above', 'connect MCP Inspector, VS Code or Claude Desktop: each starts the server itself'],
      ...this.checkAndSwitch(),
      ...(keepsEmulator ? [['Ctrl+C', 'stop the emulator (sign-ins need it while you explore)'] as const] : []),
    ]);
    if (!keepsEmulator) return 0;
    await this.stop.requested;
    return this.stopped();
  }

  /** The check command, and the way to the other side (your code ↔ the reference solution). */
  private checkAndSwitch(): Array<readonly [string, string]> {
    const n = this.lesson.number;
    return this.kind === 'lessons'
      ? [
          [npmRun(`check:${n}`), 'check your work against the lesson tests'],
          [npmRun(`solution:${n}`), 'run the reference solution instead (stop this one first)'],
        ]
      : [
          [npmRun(`lesson:${n}`), 'run your own code instead (stop this one first)'],
          [npmRun(`check:${n}`), 'check your work against the lesson tests'],
        ];
  }

  private stopped(): number {
    say();
    say(dim('Stopping…'));
    return 0;
  }

  /** Stops the lesson's server and our emulator (a reused emulator is left running). */
  async shutDown(): Promise<void> {
    const results = await Promise.allSettled([
      this.child ? stopChild(this.child) : Promise.resolve(),
      this.emulator ? this.emulator.close() : Promise.resolve(),
    ]);
    for (const result of results) {
      if (result.status === 'rejected') say(yellow(`Could not stop cleanly: ${(result.reason as Error).message}`));
    }
    if (this.stop.isRequested) say(dim(`Stopped. Next: ${npmRun(`check:${this.lesson.number}`)}`));
  }
}

function printHeader(lesson: Lesson, kind: CodeKind, dir: string, config: WorkshopConfig): void {
  const code = kind === 'lessons' ? `your lesson code, ${repoPath(dir)}` : `the reference solution, ${repoPath(dir)}`;
  const mode =
    config.mode === 'offline'
      ? `offline ${dim('(no Azure tenant needed; put ENTRA_TENANT_ID in .env to use yours)')}`
      : `tenant ${config.entra.tenantId} ${dim('(real Entra ID and Microsoft Graph, from .env)')}`;
  say(bold(`Lesson ${lesson.number} · ${lesson.title}`));
  say(`  ${dim('code    ')} ${code}`);
  say(`  ${dim('mode    ')} ${mode}`);
  if (lesson.transport === 'http') say(`  ${dim('server  ')} ${config.mcpUrl.href} ${dim('(Streamable HTTP)')}`);
  else say(`  ${dim('server  ')} stdio ${dim('(an MCP client starts it and talks over stdin/stdout)')}`);
}

/** With a real tenant, name every missing setting this lesson needs, in one line, before anything starts. */
function requireTenantSettings(lesson: Lesson): void {
  const missing = lesson.tenantEnv.filter((name) => !process.env[name]?.trim());
  if (missing.length === 0) return;
  const list = missing.length === 1 ? missing[0] : `${missing.slice(0, -1).join(', ')} and ${missing.at(-1)}`;
  throw new LabError(
    `Lesson ${lesson.number} with a real tenant needs ${list} in .env (see .env.example and ${repoPath(path.join(lesson.lessonDir, 'README.md'))}), ` +
      'or remove ENTRA_TENANT_ID to work offline.',
  );
}

function definedEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
