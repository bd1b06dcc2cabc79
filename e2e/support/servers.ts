/**
 * What the clients under test talk to: the Entra ID emulator (in this process, on a free port, with
 * its state in a scratch folder) and the lessons' reference solutions, started the way `npm run
 * solution:N` starts them (node + tsx, the offline Graph bridge preloaded), each on a free port.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmulatorServer } from '../../shared/emulator/server.ts';
import { findLesson } from '../../shared/lab/lessons.ts';
import { GRAPH_BRIDGE, spawnNode, stopChild, tsNodeArgs, waitForPort } from '../../shared/lab/processes.ts';

export { freePort } from '../../tests/support/harness.ts';

export interface Lab {
  emulatorUrl: URL;
  /** Registers a lesson server's MCP URL as the API's Application ID URI (matched exactly, as in Entra); returns its removal. */
  registerMcpUrl(mcpUrl: URL): () => void;
  /** The lab state folder (LAB_STATE_DIR): the emulator's keys and sign-ins, lesson 2's token cache. */
  stateDir: string;
  /** Environment for a lesson process: offline, this emulator, this state folder. */
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

/** The emulator with a fresh state folder. Offline whatever the developer's .env says. */
export async function startLab(): Promise<Lab> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'e2e-lab-'));
  const emulator = await startEmulatorServer({ port: 0, stateDir });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ENTRA_TENANT_ID: '',
    EMULATOR_URL: emulator.url.origin,
    EMULATOR_PORT: '',
    LAB_STATE_DIR: stateDir,
    // vitest sets BASE_URL=/ (Vite's base path) in the workers; here it would be the lessons' public URL.
    BASE_URL: '',
    PORT: '',
  };
  return {
    emulatorUrl: emulator.url,
    registerMcpUrl: (mcpUrl) => emulator.emulator.addApiAppIdUri(mcpUrl),
    stateDir,
    env,
    async close() {
      await emulator.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

export interface LessonServer {
  mcpUrl: URL;
  /** Everything the server wrote, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts lesson N's reference solution (an HTTP lesson) on `port` and waits until it listens. */
export async function startSolution(lab: Lab, lessonNumber: number, port: number): Promise<LessonServer> {
  const lesson = findLesson(String(lessonNumber));
  const mcpUrl = new URL(`http://localhost:${port}/mcp`);
  const unregister = lab.registerMcpUrl(mcpUrl);
  const preload = lesson.needsGraphBridge ? [GRAPH_BRIDGE] : [];
  const child: ChildProcess = spawnNode(tsNodeArgs(path.join(lesson.solutionDir, 'main.ts'), preload), {
    env: { ...lab.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const started = await waitForPort(port, child, 60_000);
  if (started !== 'listening') {
    unregister();
    await stopChild(child);
    throw new Error(`Lesson ${lessonNumber}'s solution did not start on port ${port} (${started}):\n${output}`);
  }
  return {
    mcpUrl,
    output: () => output,
    stop: async () => {
      unregister();
      await stopChild(child);
    },
  };
}
