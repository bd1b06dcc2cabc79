/**
 * Starting the Entra ID emulator's HTTP server for a lesson run (`lesson:N`) or on its own (`npm run emulator`).
 *
 * The emulator module is loaded by path at run time, so the lab tooling still works (and says why
 * offline sign-in is unavailable) in a checkout that does not have it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { WorkshopConfig } from '../config.ts';
import { tenantEndpoints } from '../emulator/endpoints.ts';
import { ROOT } from './lessons.ts';
import { LabError } from './output.ts';
import { portAcceptsConnections } from './processes.ts';

export const EMULATOR_MODULE = path.join(ROOT, 'shared', 'emulator', 'server.ts');

/** The contract of shared/emulator/server.ts. */
interface EmulatorModule {
  startEmulatorServer(options: {
    port: number;
    stateDir: string;
    onEvent?: (line: string) => void;
  }): Promise<{ url: URL; close(): Promise<void> }>;
}

export interface RunningEmulator {
  url: URL;
  /** True when an emulator was already running (another `npm run emulator`); close() then leaves it alone. */
  reused: boolean;
  close(): Promise<void>;
}

/**
 * The port the emulator listens on: EMULATOR_PORT when set, else the port of EMULATOR_URL (default 3100).
 * They differ only when the browser reaches the emulator through a forwarded address.
 */
export function emulatorPort(config: WorkshopConfig, env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = Number(env.EMULATOR_PORT?.trim());
  if (env.EMULATOR_PORT?.trim() && Number.isInteger(fromEnv) && fromEnv > 0 && fromEnv < 65536) return fromEnv;
  if (config.emulatorUrl.port) return Number(config.emulatorUrl.port);
  return config.emulatorUrl.protocol === 'https:' ? 443 : 80;
}

/** Whether the emulator answers at config.emulatorUrl (its tenant's OpenID configuration). */
async function emulatorAnswers(config: WorkshopConfig): Promise<boolean> {
  const discovery = tenantEndpoints(config.emulatorUrl).openIdConfiguration;
  try {
    const response = await fetch(discovery, { signal: AbortSignal.timeout(1500) });
    if (!response.ok) return false;
    const body = (await response.json()) as { token_endpoint?: unknown };
    return typeof body.token_endpoint === 'string';
  } catch {
    return false;
  }
}

/**
 * Starts the emulator in this process, or reuses one that already answers at EMULATOR_URL.
 * `allowReuse: false` (for `npm run emulator`) makes an already running emulator an error instead.
 * `onEvent` receives one line per sign-in, token and mail, for the learner's console.
 */
export async function startEmulator(
  config: WorkshopConfig,
  options: { allowReuse: boolean; onEvent?: (line: string) => void },
): Promise<RunningEmulator> {
  if (!existsSync(EMULATOR_MODULE)) {
    throw new LabError(
      'The Entra ID emulator (shared/emulator/server.ts) is not in this checkout yet, so offline sign-in cannot start. ' +
        'Update the workshop (git pull), or set up a real tenant in .env (see .env.example).',
    );
  }
  const port = emulatorPort(config);
  if (await portAcceptsConnections(port)) {
    if (await emulatorAnswers(config)) {
      if (options.allowReuse) return { url: config.emulatorUrl, reused: true, close: async () => {} };
      throw new LabError(
        `The Entra ID emulator is already running at ${config.emulatorUrl.origin} (another npm run emulator or npm run lesson:N). ` +
          'Use that one, or stop it with Ctrl+C in its terminal.',
      );
    }
    throw new LabError(
      `Port ${port} is in use by something that is not the Entra ID emulator. Stop it, or set EMULATOR_PORT in .env (see .env.example).`,
    );
  }
  const module = (await import(pathToFileURL(EMULATOR_MODULE).href)) as Partial<EmulatorModule>;
  if (typeof module.startEmulatorServer !== 'function') {
    throw new LabError('shared/emulator/server.ts does not export startEmulatorServer(); the emulator is incomplete in this checkout.');
  }
  let server: Awaited<ReturnType<EmulatorModule['startEmulatorServer']>>;
  try {
    server = await module.startEmulatorServer({ port, stateDir: config.stateDir, onEvent: options.onEvent });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new LabError(`Port ${port} is in use, so the Entra ID emulator cannot start. Stop what holds it, or set EMULATOR_PORT in .env.`);
    }
    throw error;
  }
  return { url: server.url, reused: false, close: () => server.close() };
}
