/**
 * Lesson demos: `demos/NN-slug.ts` may export `demo(ctx)`, which `npm run lesson:N` runs once the
 * lesson's server is up (HTTP lessons), or instead of starting it (stdio lessons: the demo spawns the
 * server itself with `ctx.server` and talks MCP over its stdin/stdout).
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { WorkshopConfig } from '../config.ts';
import { repoPath, type Lesson } from './lessons.ts';
import { bold, dim, npmRun, say, sayError } from './output.ts';

/** How to start the lesson's server yourself: `spawn(command, args, { cwd, env })`, or an SDK StdioClientTransport. */
export interface ServerCommand {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

/** What a demo gets. A demo may use only `mcpUrl` and `log`; the rest is there for stdio lessons. */
export interface DemoContext {
  /** The lesson's MCP endpoint (HTTP lessons), e.g. http://localhost:3001/mcp. */
  mcpUrl: URL;
  /** Prints one line of the demo's story, marked as coming from the demo. */
  log: (line: string) => void;
  /** The command that runs the code being demonstrated (the learner's lesson or the solution). */
  server: ServerCommand;
  config: WorkshopConfig;
}

interface DemoModule {
  demo?: (ctx: DemoContext) => Promise<void>;
}

/** `none`: the lesson has no demo; `done`: it ran to the end; `failed`: it stopped (expected while TODOs remain). */
export type DemoOutcome = 'none' | 'done' | 'failed';

/**
 * Runs the lesson's demo if it has one. A failing demo is reported, not fatal: while TODOs remain, a
 * demo is expected to stop somewhere, and the server stays up for the learner to explore.
 */
export async function runDemo(lesson: Lesson, ctx: Omit<DemoContext, 'log'>): Promise<DemoOutcome> {
  if (!existsSync(lesson.demoFile)) return 'none';
  let module: DemoModule;
  try {
    module = (await import(pathToFileURL(lesson.demoFile).href)) as DemoModule;
  } catch (error) {
    sayError(`The demo ${repoPath(lesson.demoFile)} could not be loaded: ${(error as Error).message}`);
    return 'failed';
  }
  if (typeof module.demo !== 'function') return 'none';

  say();
  say(bold(`Demo (${repoPath(lesson.demoFile)})`));
  const log = (line: string) => say(`  ${dim('demo ›')} ${line}`);
  try {
    await module.demo({ ...ctx, log });
    return 'done';
  } catch (error) {
    sayError(`The demo stopped: ${(error as Error).message}`);
    say(dim(`  That is expected while TODOs remain: ${npmRun(`check:${lesson.number}`)} tells you what is missing.`));
    return 'failed';
  }
}
