/**
 * A real Chromium for the e2e suite, driven by playwright-core (which downloads no browser): the
 * machine's own Chromium, Chrome or Edge, started headless with a fresh profile and no network
 * chatter of its own, so it works on a closed network.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { findBrowser, REPORT_DIR } from './findBrowser.ts';

export { REPORT_DIR };

/** Flags for a closed network: no sandbox (CI runs as root), no GPU, QUIC, first-run UI or background fetches. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** A fresh browser profile (new user-data-dir) with one page; `javaScriptEnabled: false` for no-JS runs. */
export async function launchBrowser(options: Pick<BrowserContextOptions, 'javaScriptEnabled'> = {}): Promise<Browser> {
  const executablePath = findBrowser();
  if (!executablePath) throw new Error('No Chromium, Chrome or Edge found: set E2E_BROWSER to one (npm run e2e checks this first).');
  const profile = mkdtempSync(path.join(os.tmpdir(), 'e2e-browser-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
    ...options,
  });
  // Generous: CI machines can be slow, and a wait that ends early fails with its screenshot anyway.
  context.setDefaultTimeout(30_000);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Screenshots named after the test: `<test>-01-<what>.png`, `<test>-02-<what>.png`, … in REPORT_DIR.
 * `step()` runs one step of a flow and screenshots the page after it, or, when it fails, screenshots
 * the page as it was and names that file in the error.
 */
export class Shots {
  private count = 0;

  constructor(private readonly test: string) {
    mkdirSync(REPORT_DIR, { recursive: true });
  }

  async take(page: Page, what: string): Promise<string> {
    this.count += 1;
    const file = path.join(REPORT_DIR, `${slug(this.test)}-${String(this.count).padStart(2, '0')}-${slug(what)}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    return path.relative(process.cwd(), file);
  }

  async step<T>(page: Page, what: string, run: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await run();
    } catch (error) {
      const file = await this.take(page, `${what} FAILED`);
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new Error(`${what}: ${message}\n  page: ${page.url()}\n  screenshot: ${file}`, { cause: error });
    }
    await this.take(page, what);
    return result;
  }
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60);
}
