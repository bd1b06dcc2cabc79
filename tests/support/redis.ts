/**
 * A real Redis for the tests that need one (lesson 5's shared token cache): Debian's `redis-server`,
 * started on a free port with nothing saved to disk, and stopped after the test.
 *
 * Without redis-server on the machine those tests are skipped with a one-line reason, unless
 * LAB_REQUIRE_REDIS=1 (set by .ci/run, which installs it): then its absence is a failure.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './harness.ts';

export const REDIS_REQUIRED = process.env.LAB_REQUIRE_REDIS === '1';

/** Why Redis tests cannot run here, or undefined when redis-server is available. */
export function redisUnavailableReason(): string | undefined {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.status === 0) return undefined;
  const reason = 'redis-server is not installed (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis)';
  if (REDIS_REQUIRED) throw new Error(`LAB_REQUIRE_REDIS=1 but ${reason}.`);
  return reason;
}

export interface RunningRedis {
  url: URL;
  port: number;
  /** Kills the server at once, as a crash would. */
  kill(): Promise<void>;
}

/** Starts a throw-away redis-server on a free loopback port. */
export async function startRedis(): Promise<RunningRedis> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lab-redis-'));
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  const deadline = Date.now() + 5000;
  while (!(await accepts(port))) {
    if (exited || Date.now() > deadline) throw new Error(`redis-server did not start on port ${port}.`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: new URL(`redis://127.0.0.1:${port}`),
    port,
    async kill() {
      if (!exited) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}


function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
