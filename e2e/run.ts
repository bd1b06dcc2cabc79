/**
 * `npm run e2e`: the real-client suite. A real Chromium (the machine's own: Chromium, Chrome or Edge),
 * MCP Inspector 2.x and the MCP SDK's client, against the reference solutions. Not part of
 * `npm test` or `check:N`: learners need none of this.
 *
 * Before running anything it checks, and says in one line what is missing: Node.js 22.19+ (Inspector
 * 2.x needs it), the suite's own dependencies (e2e/node_modules), and a browser.
 * Screenshots of every page go to e2e/report/, which git ignores.
 */
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../shared/lab/lessons.ts';
import { runNode, vitestBin } from '../shared/lab/processes.ts';
import { findBrowser, REPORT_DIR } from './support/findBrowser.ts';

function stop(line: string): never {
  console.error(`npm run e2e: ${line}`);
  process.exit(1);
}

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  stop(`MCP Inspector 2.x needs Node.js 22.19 or newer; this is ${process.version}. Install a newer Node.js 22 or 24 from https://nodejs.org`);
}
if (!existsSync(path.join(ROOT, 'e2e', 'node_modules', 'playwright-core')) || !existsSync(path.join(ROOT, 'e2e', 'node_modules', '@modelcontextprotocol', 'inspector'))) {
  stop('the suite\'s own dependencies are missing: run npm install --prefix e2e');
}
if (!findBrowser()) {
  stop(
    process.env.E2E_BROWSER
      ? `E2E_BROWSER is set to ${process.env.E2E_BROWSER}, which does not exist. Point it at a Chromium, Chrome or Edge executable.`
      : 'no Chromium, Chrome or Edge found. Install one (Debian/Ubuntu: sudo apt-get install -y chromium) or set E2E_BROWSER to its executable.',
  );
}

rmSync(REPORT_DIR, { recursive: true, force: true });
const extra = process.argv.slice(2);
const run = await runNode([vitestBin(), 'run', '--config', path.join(ROOT, 'e2e', 'vitest.config.ts'), ...extra], { timeoutMs: 15 * 60_000 });
console.log(`Screenshots of every page: ${path.relative(process.cwd(), REPORT_DIR) || '.'}/`);
process.exit(run.code);
