/**
 * Lesson 2's test helpers: a stdio MCP server spawned as a child process, driven with raw JSON-RPC
 * lines so that a test sees every byte the server writes to stdout (an SDK client would hide a
 * stray line behind a parse error), plus its stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { GRAPH_BRIDGE, tsNodeArgs } from '../../shared/lab/processes.ts';

/**
 * MSAL's acquireTokenInteractive starts its loopback server, then checks every 100 ms whether it is
 * listening (LOOPBACK_SERVER_CONSTANTS in @azure/msal-node) before it opens the browser. A person never
 * notices; a suite of sign-ins spends a second on it. Check every few milliseconds instead: it changes
 * when MSAL looks, not what it does. Should MSAL move the constant, the tests get slower, never wrong.
 */
export async function hurryMsalLoopbackPolling(): Promise<void> {
  try {
    const root = path.dirname(createRequire(import.meta.url).resolve('@azure/msal-node/package.json'));
    // The same module instance the learner's code loads (through @azure/msal-node's "import" export).
    const constants = await import(pathToFileURL(path.join(root, 'dist', 'utils', 'Constants.mjs')).href);
    if (typeof constants.LOOPBACK_SERVER_CONSTANTS?.INTERVAL_MS === 'number') constants.LOOPBACK_SERVER_CONSTANTS.INTERVAL_MS = 5;
  } catch {
    // Not where it was: leave MSAL as it is.
  }
}

/**
 * A minimal environment for a lesson process: the platform's basics (PATH, HOME, SystemRoot…), the
 * temporary folder (where tsx keeps its cache; the grader gives each run its own) and Node's compile
 * cache (shared/lab/compileCache.ts), never the test runner's own variables, so no ENTRA_* setting can
 * leak in.
 */
export function isolatedEnv(extra: Record<string, string>): Record<string, string> {
  const caches = Object.fromEntries(
    ['TMPDIR', 'TMP', 'TEMP', 'NODE_COMPILE_CACHE'].flatMap((name) => (process.env[name] ? [[name, process.env[name]!]] : [])),
  );
  const env: Record<string, string> = { ...getDefaultEnvironment(), ...caches, NO_COLOR: '1', ...extra };
  for (const name of Object.keys(env)) if (name.startsWith('ENTRA_')) delete env[name];
  return env;
}

export interface JsonRpcResponse {
  jsonrpc: '2.0';
  id: number;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

export class StdioChild {
  private readonly lines: string[] = [];
  private stderrText = '';
  private stdoutRest = '';
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: JsonRpcResponse) => void; reject: (e: Error) => void }>();
  private readonly stderrWaiters = new Set<() => void>();
  private exitInfo: string | undefined;

  private constructor(private readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => this.onStdout(chunk));
    child.stderr!.on('data', (chunk: string) => {
      this.stderrText += chunk;
      for (const wake of this.stderrWaiters) wake();
    });
    child.once('exit', (code, signal) => {
      this.exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
      const error = new Error(`The server process ended (${this.exitInfo}) before answering.${this.strayReport()} Its stderr:\n${this.stderr || '(empty)'}`);
      for (const { reject } of this.pending.values()) reject(error);
      this.pending.clear();
      for (const wake of this.stderrWaiters) wake();
    });
    // A closed pipe after the child died is reported through 'exit'.
    child.stdin!.on('error', () => undefined);
  }

  /** Spawns `node --import tsx --import <bridge> <entry>` with exactly `env`, in `cwd`. */
  static start(entry: string, options: { env: Record<string, string>; cwd: string }): StdioChild {
    const child = spawn(process.execPath, tsNodeArgs(entry, [GRAPH_BRIDGE]), {
      cwd: options.cwd,
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    return new StdioChild(child);
  }

  /** Every line the server wrote to stdout so far, including an unfinished last line. */
  get stdoutLines(): string[] {
    return this.stdoutRest ? [...this.lines, this.stdoutRest] : [...this.lines];
  }

  /**
   * " stdout also carried a line that is not JSON-RPC: …", or "": a stray line on stdout is the usual
   * reason an MCP client hears nothing back, so every failure to answer names the first one.
   */
  strayReport(): string {
    const strays = nonProtocolLines(this.stdoutLines);
    if (strays.length === 0) return '';
    const more = strays.length > 1 ? ` (and ${strays.length - 1} more)` : '';
    return ` Its stdout carried a line that is not a JSON-RPC message, ${JSON.stringify(strays[0]!.slice(0, 200))}${more}: stdout is the protocol, so every log line must go to stderr.`;
  }

  get stderr(): string {
    return this.stderrText;
  }

  get exited(): boolean {
    return this.exitInfo !== undefined;
  }

  /** Sends a request and waits for the response with the same id. */
  request(method: string, params: Record<string, unknown>, timeoutMs: number): Promise<JsonRpcResponse> {
    const id = this.nextId++;
    return new Promise<JsonRpcResponse>((resolve, reject) => {
      if (this.exitInfo) return reject(new Error(`The server process already ended (${this.exitInfo}). Its stderr:\n${this.stderr || '(empty)'}`));
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`No answer to ${method} within ${timeoutMs / 1000} s.${this.strayReport()} The server's stderr:\n${this.stderr || '(empty)'}`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (response) => {
          clearTimeout(timer);
          resolve(response);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.send({ jsonrpc: '2.0', id, method, params });
    });
  }

  notify(method: string, params: Record<string, unknown> = {}): void {
    this.send({ jsonrpc: '2.0', method, params });
  }

  /** initialize + notifications/initialized, as every MCP client starts. */
  async initialize(timeoutMs: number): Promise<JsonRpcResponse> {
    const response = await this.request(
      'initialize',
      { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'lesson-2-tests', version: '1.0.0' } },
      timeoutMs,
    );
    this.notify('notifications/initialized');
    return response;
  }

  /** Waits until stderr matches `pattern`; resolves the match, or undefined on timeout or exit. */
  async waitForStderr(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this.stderrText.match(pattern);
      if (match) return match;
      if (this.exitInfo || Date.now() >= deadline) return undefined;
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.stderrWaiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, Math.max(0, deadline - Date.now()));
        this.stderrWaiters.add(wake);
      });
    }
  }

  /** Closes stdin (the MCP way to say goodbye), then kills the process if it lingers. */
  async close(graceMs = 3000): Promise<void> {
    if (this.exitInfo) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  private send(message: unknown): void {
    this.child.stdin!.write(`${JSON.stringify(message)}\n`);
  }

  private onStdout(chunk: string): void {
    this.stdoutRest += chunk;
    let newline: number;
    while ((newline = this.stdoutRest.indexOf('\n')) >= 0) {
      const line = this.stdoutRest.slice(0, newline).replace(/\r$/, '');
      this.stdoutRest = this.stdoutRest.slice(newline + 1);
      this.lines.push(line);
      let message: Partial<JsonRpcResponse> | undefined;
      try {
        message = JSON.parse(line) as Partial<JsonRpcResponse>;
      } catch {
        continue; // the test reports lines that are not JSON-RPC
      }
      if (typeof message?.id === 'number') {
        this.pending.get(message.id)?.resolve(message as JsonRpcResponse);
        this.pending.delete(message.id);
      }
    }
  }
}

/** Lines of stdout that are not a JSON-RPC 2.0 message. */
export function nonProtocolLines(lines: string[]): string[] {
  return lines.filter((line) => {
    try {
      const message = JSON.parse(line) as { jsonrpc?: unknown };
      return message?.jsonrpc !== '2.0';
    } catch {
      return true;
    }
  });
}
