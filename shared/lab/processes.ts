/**
 * Child processes and ports, the same on Windows, macOS and Linux.
 *
 * Every child is `node` itself (process.execPath) with a script path, never a shell command line, so no
 * quoting or `.cmd` shims are involved, and `child.kill()` stops the process that does the work.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './lessons.ts';

const require = createRequire(import.meta.url);

/** The tsx loader as a `--import` argument: lets plain `node` run TypeScript, one process, no wrapper. */
export const TSX_IMPORT = import.meta.resolve('tsx');

/** The offline Graph bridge that lessons calling Microsoft Graph preload (see shared/offline/). */
export const GRAPH_BRIDGE = path.join(ROOT, 'shared', 'offline', 'register.ts');

/** Node arguments that run a TypeScript entry file, with extra modules preloaded in order. */
export function tsNodeArgs(entry: string, preload: string[] = []): string[] {
  const imports = preload.flatMap((file) => ['--import', pathToFileURL(file).href]);
  return ['--import', TSX_IMPORT, ...imports, entry];
}

/** The vitest CLI script, run with `node`. */
export function vitestBin(): string {
  return path.join(path.dirname(require.resolve('vitest/package.json')), 'vitest.mjs');
}

/** The TypeScript compiler CLI script, run with `node`. */
export function tscBin(): string {
  return require.resolve('typescript/bin/tsc');
}

/** Starts `node <args>` in the repository root. */
export function spawnNode(args: string[], options: SpawnOptions = {}): ChildProcess {
  return spawn(process.execPath, args, { cwd: ROOT, ...options });
}

/** How a child process ended. */
export interface Finished {
  /** The exit code; 1 when the process was killed by a signal or timed out. */
  code: number;
  /** stdout and stderr interleaved, when they were captured. */
  output: string;
  timedOut: boolean;
}

/**
 * Runs `node <args>` to the end. With `capture`, its output is collected instead of shown (to replay
 * only when something went wrong); otherwise it shares this terminal.
 */
export async function runNode(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; capture?: boolean; timeoutMs?: number } = {},
): Promise<Finished> {
  const child = spawnNode(args, {
    env: options.env ?? process.env,
    stdio: options.capture ? ['ignore', 'pipe', 'pipe'] : 'inherit',
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let timedOut = false;
  const timer = options.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        child.kill();
      }, options.timeoutMs)
    : undefined;
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  return { code: code ?? 1, output, timedOut };
}

/** Whether something accepts TCP connections on `port` at localhost (IPv4 or IPv6). */
export async function portAcceptsConnections(port: number): Promise<boolean> {
  const attempts = ['127.0.0.1', '::1'].map((host) => canConnect(host, port));
  return (await Promise.all(attempts)).some(Boolean);
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Waits until `port` accepts connections. Resolves `listening`, or `exited` as soon as the child ends
 * first, or `timeout` after `timeoutMs`.
 */
export async function waitForPort(
  port: number,
  child: ChildProcess,
  timeoutMs: number,
): Promise<'listening' | 'exited' | 'timeout'> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (hasExited(child)) return 'exited';
    if (await portAcceptsConnections(port)) return 'listening';
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return hasExited(child) ? 'exited' : 'timeout';
}

/** True once `child` has exited or was killed by a signal. */
export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * Stops a child and waits for it. `kill()` sends SIGTERM on POSIX and terminates the process on
 * Windows; a child that ignores it is killed for good after `graceMs`.
 */
export async function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (hasExited(child)) return;
  const exited = once(child, 'exit');
  child.kill();
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** A request to stop (Ctrl+C, a closed terminal, a kill), delivered once. */
export interface StopRequest {
  /** Settles when the learner asks to stop. */
  requested: Promise<void>;
  readonly isRequested: boolean;
  /** Removes the signal handlers again. */
  dispose(): void;
}

/**
 * Listens for Ctrl+C and friends so a command can shut its children down before it exits. A second
 * Ctrl+C exits at once. Node emulates SIGINT for Ctrl+C on Windows too; SIGBREAK is Ctrl+Break there.
 */
export function listenForStop(): StopRequest {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  if (process.platform === 'win32') signals.push('SIGBREAK');
  let isRequested = false;
  let resolve!: () => void;
  const requested = new Promise<void>((settle) => (resolve = settle));
  const handler = () => {
    if (isRequested) process.exit(130);
    isRequested = true;
    resolve();
  };
  for (const signal of signals) process.on(signal, handler);
  return {
    requested,
    get isRequested() {
      return isRequested;
    },
    dispose() {
      for (const signal of signals) process.off(signal, handler);
    },
  };
}

/**
 * Runs `node <args>` to the end like runNode, for code we do not trust to end by itself (a learner's
 * submission, a quiet re-check): on POSIX the child gets its own process group, so a time limit or
 * our own exit stops it together with every process it started (vitest's workers, a stdio server);
 * on Windows `taskkill /T` does the same.
 */
export async function runNodeTree(
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs: number },
): Promise<Finished> {
  const posix = process.platform !== 'win32';
  const child = spawn(process.execPath, args, {
    cwd: options.cwd ?? ROOT,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: posix,
    windowsHide: true,
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // A detached group does not get the terminal's Ctrl+C: take it down when we go down.
  const killOnExit = () => killTree(child);
  process.once('exit', killOnExit);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killTree(child);
  }, options.timeoutMs);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  process.off('exit', killOnExit);
  // Grandchildren that outlived their parent (a worker stuck in a loop) go too.
  killTree(child);
  return { code: code ?? 1, output, timedOut };
}

/** Kills a child started by runNodeTree and everything it started. Safe to call twice. */
export function killTree(child: ChildProcess): void {
  if (child.pid === undefined) return;
  if (process.platform === 'win32') {
    if (hasExited(child)) return;
    spawnSync('taskkill', ['/pid', String(child.pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true });
    return;
  }
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // The group is already gone.
  }
}
