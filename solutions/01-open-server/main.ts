/**
 * Starts lesson 1's server on http://localhost:3001/mcp (`PORT` overrides).
 * Logs go to stderr, so they never mix with anything a tool prints.
 */
import { readSettings, serve } from '../../shared/startup.ts';
import { createOutbox } from '../../shared/world/outbox.ts';
import { createApp } from './server.ts';

const config = readSettings();

const outbox = createOutbox({
  onSend: (mail) => console.error(`[outbox] ${mail.id} to ${mail.to}: "${mail.subject}" (${mail.body.length} characters)`),
});

serve(createApp({ outbox }), config, [
  `Lesson 1 MCP server listening on ${config.mcpUrl.href} — with no authentication at all.`,
  'Stop with Ctrl+C. Then check your work: npm run check:1',
]);
