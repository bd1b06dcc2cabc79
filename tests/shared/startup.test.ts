/**
 * Start-up in tenant mode: lesson 4's main.ts refuses, in one line and before it listens, an
 * Application ID URI that Entra ID would refuse or that differs from the metadata's `resource`.
 * Nothing here reaches a tenant: the settings are checked before the first network call.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../shared/lab/lessons.ts';
import { tsNodeArgs } from '../../shared/lab/processes.ts';

const MAIN = path.join(ROOT, 'lessons', '04-resource-server', 'main.ts');
/** An empty folder as the working directory, so that no .env of this checkout is read. */
const CWD = mkdtempSync(path.join(tmpdir(), 'lab-startup-'));
afterAll(() => rmSync(CWD, { recursive: true, force: true }));

const TENANT = {
  ENTRA_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  ENTRA_API_CLIENT_ID: '11111111-2222-4333-8444-555555555555',
  ENTRA_API_CLIENT_SECRET: 'not-a-real-secret',
  ENTRA_MCP_CLIENT_ID: '66666666-7777-4888-9999-aaaaaaaaaaaa',
};

function start(env: Record<string, string>) {
  const result = spawnSync(process.execPath, tsNodeArgs(MAIN), {
    cwd: CWD,
    env: { PATH: process.env.PATH ?? '', LAB_STATE_DIR: path.join(CWD, '.lab'), ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const lines = result.stderr.trim().split('\n');
  return { status: result.status, lines, stdout: result.stdout };
}

describe('lesson 4 with a real tenant refuses an Application ID URI Entra ID would refuse (main.ts)', () => {
  it('http://localhost:3001/mcp: exits 1 with one line naming the URL and the fix', () => {
    const { status, lines, stdout } = start(TENANT);
    expect(status, 'the server must not start').toBe(1);
    expect(lines, `one line on stderr, no stack trace; got:\n${lines.join('\n')}`).toHaveLength(1);
    expect(lines[0], 'names the URL, what Entra ID accepts and the variable to change').toMatch(
      /^Error: .*"http:\/\/localhost:\d+\/mcp".*https:\/\/.*BASE_URL/,
    );
    expect(stdout, 'nothing on stdout').toBe('');
  });

  it('ENTRA_API_APP_ID_URI differing from BASE_URL + /mcp: exits 1 with one line naming both values', () => {
    const { status, lines } = start({
      ...TENANT,
      BASE_URL: 'https://k7xq2p-3001.euw.devtunnels.ms',
      ENTRA_API_APP_ID_URI: 'api://11111111-2222-4333-8444-555555555555',
    });
    expect(status, 'the server must not start').toBe(1);
    expect(lines, `one line on stderr, no stack trace; got:\n${lines.join('\n')}`).toHaveLength(1);
    expect(lines[0]).toContain('"api://11111111-2222-4333-8444-555555555555"');
    expect(lines[0]).toContain('"https://k7xq2p-3001.euw.devtunnels.ms/mcp"');
  });
});
