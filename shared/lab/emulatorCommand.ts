/**
 * `npm run emulator`: the Entra ID emulator on its own, for exploring its sign-in pages or for running a
 * lesson's server by hand. `npm run lesson:N` starts it by itself when a lesson needs it.
 */
import path from 'node:path';
import { APPS, TENANT_DOMAIN, TENANT_ID, USERS } from '../emulator/directory.ts';
import { tenantEndpoints } from '../emulator/endpoints.ts';
import { readConfig } from '../startup.ts';
import { startEmulator } from './emulator.ts';
import { ROOT } from './lessons.ts';
import { bold, dim, green, npmRun, say, sayNext, yellow } from './output.ts';
import { listenForStop } from './processes.ts';

/** Starts the emulator on `EMULATOR_PORT`, prints its endpoints, apps and users, and runs until Ctrl+C. Resolves to the exit code. */
export async function emulatorCommand(): Promise<number> {
  const config = readConfig(path.join(ROOT, '.env'));
  const stop = listenForStop();
  try {
    const emulator = await startEmulator(config, { allowReuse: false, onEvent: (line) => say(`  ${dim('emulator ›')} ${line}`) });
    say(green(`✔ Entra ID emulator listening at ${emulator.url.origin}`));
    say(`  ${dim('tenant  ')} ${TENANT_DOMAIN} (${TENANT_ID})`);
    say(`  ${dim('issuer  ')} ${tenantEndpoints(emulator.url).issuer}`);
    say(`  ${dim('state   ')} ${config.stateDir}`);
    say(`  ${dim('API URI ')} ${config.mcpUrl.href} ${dim('(the MCP API\'s Application ID URI: BASE_URL + /mcp, matched exactly)')}`);
    say();
    say(bold('Test users (pick one on the sign-in page; no password):'));
    const width = Math.max(...USERS.map((user) => user.userPrincipalName.length));
    for (const user of USERS) {
      const roles = user.apiRoles.length > 0 ? dim(`  app roles: ${user.apiRoles.join(', ')}`) : '';
      say(`  ${user.userPrincipalName.padEnd(width)}  ${user.displayName}${roles}`);
    }
    say();
    say(bold('App registrations:'));
    const apps = Object.values(APPS).filter((app) => app.clientId !== APPS.graph.clientId);
    const nameWidth = Math.max(...apps.map((app) => app.displayName.length));
    for (const app of apps) say(`  ${app.displayName.padEnd(nameWidth)}  ${app.clientId}`);
    say(dim('  (redirect URIs, scopes and secrets: shared/emulator/directory.ts)'));
    if (config.mode === 'tenant') {
      say();
      say(yellow('Note: ENTRA_TENANT_ID is set, so the lessons use your real tenant, not this emulator.'));
    }
    say();
    sayNext('Next:', [
      [npmRun('lesson:N'), 'in a second terminal: a lesson that signs users in uses this emulator'],
      ['Ctrl+C', 'stop the emulator'],
    ]);
    await stop.requested;
    say();
    say(dim('Stopping the emulator…'));
    await emulator.close();
    return 0;
  } finally {
    stop.dispose();
  }
}
