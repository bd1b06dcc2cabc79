/**
 * What does verifying every request cost? The same `tools/call` load against lesson 1's open server
 * and lesson 4's protected one (every request's token checked: jose once per distinct token, then the
 * verified-token cache; scopes checked per tool),
 * in one run, and the ratio of their throughput. Target: the protected server keeps at least 95%.
 *
 *   npm run bench            (or: npx tsx bench/auth-overhead.ts --duration=3 --rounds=8 --concurrency=16)
 *
 * Offline and self-contained: a child process runs the Entra ID emulator and both reference
 * solutions on free ports; this process generates the load, so the load generator never competes
 * with the servers for one event loop. The tool called is `lookup_customer`, which both lessons
 * have and which needs no Graph. Not a test: it prints numbers.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../shared/config.ts';
import { APPS } from '../shared/emulator/directory.ts';
import { startEmulatorServer } from '../shared/emulator/server.ts';
import { spawnNode, tsNodeArgs } from '../shared/lab/processes.ts';
import { createOutbox } from '../shared/world/outbox.ts';

const TARGET_RATIO = 0.95;
const BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'lookup_customer', arguments: { customerId: 'C-1001' } },
});

interface Targets {
  open: string;
  protected: string;
  token: string;
  /** The settings the protected server runs with, to time its verifier alone. */
  env: Record<string, string>;
}

if (process.argv.includes('--serve')) await serve();
else await measure();

// ------------------------------------------------------------------------------ the servers (child)

/** Child process: the emulator and both solutions on free ports; prints where they are, waits. */
async function serve(): Promise<void> {
  const emulator = await startEmulatorServer({ port: 0 });
  const openServer = await listen();
  const protectedServer = await listen();
  const port = (protectedServer.address() as AddressInfo).port;
  const env = { PORT: String(port), EMULATOR_URL: emulator.url.origin };
  const config = loadConfig(env);

  const lesson1 = await import('../solutions/01-open-server/server.ts');
  const lesson4 = await import('../solutions/04-resource-server/app.ts');
  openServer.on('request', lesson1.createApp({ outbox: createOutbox() }));
  protectedServer.on('request', await lesson4.createApp(config));

  // A genuine delegated token for Ada with tools.read, valid for the emulator's default hour.
  const token = await emulator.emulator.issueAccessToken({
    client: APPS.mcpClient.clientId,
    user: 'ada',
    scope: `${config.entra.apiAppIdUri}/tools.read`,
  });
  const targets: Targets = {
    open: `http://localhost:${(openServer.address() as AddressInfo).port}/mcp`,
    protected: config.mcpUrl.href,
    token,
    env,
  };
  process.stdout.write(`${JSON.stringify(targets)}\n`);
  // Stop when the parent goes away.
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
}

async function listen(): Promise<Server> {
  const server = createServer();
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

// ------------------------------------------------------------------------------ the load (parent)

interface Sample {
  requests: number;
  errors: number;
  seconds: number;
  latenciesMs: number[];
}

async function measure(): Promise<void> {
  const options = {
    durationSeconds: numberArg('duration', 3),
    rounds: numberArg('rounds', 8),
    concurrency: numberArg('concurrency', 16),
    warmupSeconds: numberArg('warmup', 2),
  };
  const child = spawnNode([...tsNodeArgs(fileURLToPath(import.meta.url)), '--serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const targets = await new Promise<Targets>((resolve, reject) => {
      let buffered = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const line = buffered.split('\n')[0];
        if (buffered.includes('\n')) resolve(JSON.parse(line!) as Targets);
      });
      child.once('exit', (code) => reject(new Error(`The server process exited (code ${code}) before it was ready.`)));
    });

    const open = { name: 'open (lesson 1)', url: targets.open, headers: {} as Record<string, string> };
    const secured = { name: 'protected (lesson 4)', url: targets.protected, headers: { authorization: `Bearer ${targets.token}` } };
    for (const server of [open, secured]) await sanityCheck(server.url, server.headers, server.name);

    console.log(`Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'})`);
    console.log(`Load: tools/call lookup_customer, ${options.concurrency} concurrent keep-alive clients, ${options.rounds} rounds of ${options.durationSeconds} s per server, alternating.`);
    console.log(`Warming up (${options.warmupSeconds} s each)…`);
    await run(open.url, open.headers, options.warmupSeconds, options.concurrency);
    await run(secured.url, secured.headers, options.warmupSeconds, options.concurrency);

    // Many short rounds, back to back: other work on the machine then weighs on both servers alike,
    // and the ratio within a round is a fairer number than the ratio of two far-apart runs.
    const totals = { open: emptySample(), secured: emptySample() };
    const roundRatios: number[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      // ABBA: neither server always runs first (thermal and JIT effects even out).
      const order = round % 2 === 1 ? (['open', 'secured'] as const) : (['secured', 'open'] as const);
      const rates = { open: 0, secured: 0 };
      for (const which of order) {
        const server = which === 'open' ? open : secured;
        const sample = await run(server.url, server.headers, options.durationSeconds, options.concurrency);
        merge(totals[which], sample);
        rates[which] = rate(sample);
      }
      roundRatios.push(rates.secured / rates.open);
      console.log(`  round ${round}: open ${rates.open.toFixed(0)} req/s, protected ${rates.secured.toFixed(0)} req/s, ratio ${(roundRatios.at(-1)! * 100).toFixed(1)}%`);
    }

    console.log();
    console.log(table([
      ['server', 'requests', 'errors', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms'],
      row(open.name, totals.open),
      row(secured.name, totals.secured),
    ]));
    const overall = rate(totals.secured) / rate(totals.open);
    const median = middle(roundRatios);
    const verdict = median >= TARGET_RATIO ? 'meets the target' : 'BELOW the target';
    console.log();
    console.log(`protected / open throughput: median of rounds ${(median * 100).toFixed(1)}%, all requests ${(overall * 100).toFixed(1)}% (target ≥ ${TARGET_RATIO * 100}%): ${verdict}.`);
    if (totals.open.errors + totals.secured.errors > 0) console.log('Some requests failed: the numbers above are not trustworthy.');

    // The same question from the other side, less sensitive to other work on the machine: what one
    // verification costs, against the time the open server spends on one request. The server checks
    // each distinct token once (verifiedTokens.ts); a client reuses its token, so most requests hit.
    const fullMs = await timeVerifier(targets, false);
    const cachedMs = await timeVerifier(targets, true);
    const perRequestMs = 1000 / rate(totals.open);
    const estimate = (ms: number) => ((1 / (1 + ms / perRequestMs)) * 100).toFixed(1);
    console.log(
      `One verification: ${(fullMs * 1000).toFixed(0)} µs with jose (RS256, key cached), ${(cachedMs * 1000).toFixed(1)} µs for a token verified before; ` +
        `the open server spends ${perRequestMs.toFixed(2)} ms per request. On one thread that alone would give about ${estimate(fullMs)}% ` +
        `without the verified-token cache and ${estimate(cachedMs)}% with it. The rounds above vary more than that: run on a quiet machine.`,
    );
  } finally {
    child.stdin?.end();
    child.kill();
  }
}

/** Milliseconds per verifyAccessToken call of lesson 4's solution, one after another, keys cached. */
async function timeVerifier(targets: Targets, withCache: boolean): Promise<number> {
  const { createEntraVerifier } = await import('../solutions/04-resource-server/verifier.ts');
  const { withVerifiedTokenCache } = await import('../solutions/04-resource-server/verifiedTokens.ts');
  const jose = createEntraVerifier(loadConfig(targets.env));
  const verifier = withCache ? withVerifiedTokenCache(jose) : jose;
  for (let i = 0; i < 300; i++) await verifier.verifyAccessToken(targets.token);
  const runs = 3000;
  const started = performance.now();
  for (let i = 0; i < runs; i++) await verifier.verifyAccessToken(targets.token);
  return (performance.now() - started) / runs;
}

/** One request must work before we measure: the right status and the customer in the answer. */
async function sanityCheck(url: string, headers: Record<string, string>, name: string): Promise<void> {
  const response = await post(url, headers);
  const text = await response.text();
  if (response.status !== 200 || !text.includes('Mara Okafor') || text.includes('"isError":true')) {
    throw new Error(`${name} at ${url} did not answer lookup_customer: HTTP ${response.status} ${text.slice(0, 200)}`);
  }
}

function post(url: string, headers: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: BODY,
  });
}

/** `concurrency` loops, each sending the next request when the last one is answered, for `seconds`. */
async function run(url: string, headers: Record<string, string>, seconds: number, concurrency: number): Promise<Sample> {
  const sample = emptySample();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          const response = await post(url, headers);
          await response.arrayBuffer();
          if (response.status === 200) sample.requests++;
          else sample.errors++;
        } catch {
          sample.errors++;
        }
        sample.latenciesMs.push(performance.now() - t0);
      }
    }),
  );
  sample.seconds = (performance.now() - started) / 1000;
  return sample;
}

function emptySample(): Sample {
  return { requests: 0, errors: 0, seconds: 0, latenciesMs: [] };
}

function merge(into: Sample, from: Sample): void {
  into.requests += from.requests;
  into.errors += from.errors;
  into.seconds += from.seconds;
  for (const latency of from.latenciesMs) into.latenciesMs.push(latency);
}

function rate(sample: Sample): number {
  return sample.requests / sample.seconds;
}

function middle(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const half = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[half]! : (sorted[half - 1]! + sorted[half]!) / 2;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function row(name: string, sample: Sample): string[] {
  const sorted = [...sample.latenciesMs].sort((a, b) => a - b);
  return [
    name,
    String(sample.requests),
    String(sample.errors),
    rate(sample).toFixed(0),
    ...[50, 95, 99].map((p) => percentile(sorted, p).toFixed(2)),
  ];
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((r) => r[column]!.length)));
  return rows.map((r) => r.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ')).join('\n');
}

function numberArg(name: string, fallback: number): number {
  const raw = process.argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`--${name} must be a positive number; got "${raw}".`);
    process.exit(1);
  }
  return value;
}
