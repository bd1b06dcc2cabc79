/**
 * Which browser the e2e suite drives, and where its screenshots go. Kept free of playwright-core, so
 * `npm run e2e` can say what is missing before the suite's dependencies are even installed.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

/** Where every screenshot goes (gitignored). `npm run e2e` empties it first. */
export const REPORT_DIR = path.resolve(import.meta.dirname, '..', 'report');

/** Browsers looked for, in order, when E2E_BROWSER does not name one. */
const CANDIDATES: Partial<Record<NodeJS.Platform, string[]>> = {
  linux: ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable', '/usr/bin/microsoft-edge', '/snap/bin/chromium'],
  darwin: [
    '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
    '/Applications/Chromium.app/Contents/MacOS/Chromium',
    '/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge',
  ],
  win32: [
    path.join(process.env.PROGRAMFILES ?? 'C:\\Program Files', 'Google\\Chrome\\Application\\chrome.exe'),
    path.join(process.env['PROGRAMFILES(X86)'] ?? 'C:\\Program Files (x86)', 'Microsoft\\Edge\\Application\\msedge.exe'),
    path.join(process.env.LOCALAPPDATA ?? '', 'Google\\Chrome\\Application\\chrome.exe'),
  ],
};

/** The browser to drive: E2E_BROWSER when set, else the first candidate installed here. */
export function findBrowser(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const chosen = env.E2E_BROWSER?.trim();
  if (chosen) return existsSync(chosen) ? chosen : undefined;
  return (CANDIDATES[process.platform] ?? []).find((file) => existsSync(file));
}

