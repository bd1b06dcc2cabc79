/**
 * The learner's commands (check, hint, diff, reset, progress), run as a learner runs them, on a
 * temporary copy of the workspace.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LESSON_1, lessonFile, makeWorkspace, read, removeWorkspaces, runCli, write } from './workspace.ts';

afterAll(removeWorkspaces);

/** Lesson 1's solution, plus a log line each time the app is built, so a test can look for the server's logs. */
function solutionWithLog(ws: string): string {
  return read(lessonFile(ws, 'server.ts', 'solutions')).replace(
    'const app = createMcpExpressApp();',
    "const app = createMcpExpressApp();\n  console.error('LOG-MARKER: the app was built');",
  );
}

const SLOW = 120_000;

describe('check:N', () => {
  it('shows the first failure first with its message, then the others, and a footer with hint, diff and solution', { timeout: SLOW }, async () => {
    const ws = makeWorkspace();
    const result = await runCli(ws, ['check', '1']);
    expect(result.code, result.all).toBe(1);
    const out = result.stdout;
    const first = out.indexOf('The first failure:');
    const also = out.indexOf('Also failing:');
    expect(first, `no "first failure" section in:\n${out}`).toBeGreaterThan(-1);
    expect(also).toBeGreaterThan(first);
    // The learner-facing message of the first failing test sits right under it.
    expect(out.slice(first, also)).toMatch(/Serve Streamable HTTP there \(TODO 1\.4 in lessons\/01-open-server\/server\.ts\)/);
    for (const command of ['npm run hint:1', 'npm run diff:1', 'npm run solution:1']) expect(out).toContain(command);
    // vitest's stack traces and code frames stay out of the learner's way.
    expect(out).not.toMatch(/node_modules|❯ .*\.test\.ts:\d+/);
    expect(existsSync(path.join(ws, '.lab', 'checks', `${LESSON_1}.events.ndjson`)), "the check's events are kept for progress").toBe(true);
  });

  it("shows the server's logs only when something failed", { timeout: SLOW }, async () => {
    const ws = makeWorkspace();
    write(lessonFile(ws, 'server.ts'), solutionWithLog(ws));
    const passing = await runCli(ws, ['check', '1']);
    expect(passing.code, passing.all).toBe(0);
    expect(passing.stdout).toContain('All 9 tests pass');
    expect(passing.stdout).not.toContain('LOG-MARKER');

    // Break TODO 1.5 only: one test fails, and the logs of that test are shown.
    write(lessonFile(ws, 'server.ts'), solutionWithLog(ws).replace("app.get('/mcp', methodNotAllowed);", ''));
    const failing = await runCli(ws, ['check', '1']);
    expect(failing.code).toBe(1);
    expect(failing.stdout).toMatch(/1 of 9 tests fail[\s\S]*TODO 1\.5/);
    expect(failing.stdout).toMatch(/Logs of your code[\s\S]*LOG-MARKER: the app was built/);
    expect(failing.stdout).toContain('a hint for TODO 1.5');
  });

  it('names the lessons that exist when the lesson is not there, in one line', { timeout: SLOW }, async () => {
    const ws = makeWorkspace();
    for (const args of [['check', '2'], ['hint', '3'], ['diff', '4'], ['reset', '2']]) {
      const result = await runCli(ws, args);
      expect(result.code).toBe(1);
      expect(result.stderr.trim()).toMatch(/^✘ Lesson \d \(.+\) is not in this repository yet\. Lessons you can use: 1 \(The open server\)\.$/);
    }
  });
});

describe('hint:N', () => {
  it('follows the latest check, one tier at a time, and remembers where the learner is', { timeout: SLOW }, async () => {
    const ws = makeWorkspace();
    // Before any check: the first TODO, and the advice to run the check.
    const before = await runCli(ws, ['hint', '1']);
    expect(before.code, before.all).toBe(0);
    expect(before.stdout).toMatch(/TODO 1\.1: register `lookup_customer`[\s\S]*npm run check:1/);
    expect(before.stdout).toContain('Hint 1 of 3');

    await runCli(ws, ['check', '1']);
    const first = await runCli(ws, ['hint', '1']);
    expect(first.stdout).toMatch(/TODO 1\.4: .*\(your latest check fails on it first\)/);
    expect(first.stdout).toContain('Hint 1 of 3');
    expect(first.stdout).not.toContain('Hint 2');
    const second = await runCli(ws, ['hint', '1']);
    expect(second.stdout).toMatch(/Hint 1 \(seen before\)[\s\S]*Hint 2 of 3/);
    const third = await runCli(ws, ['hint', '1']);
    expect(third.stdout).toContain('Hint 3 of 3');
    expect(third.stdout).toContain('that was the last hint for TODO 1.4');
    expect(read(path.join(ws, '.lab', 'hints.json'))).toContain('"1.4": 3');

    // Picking another TODO starts that TODO at its first tier and leaves 1.4 where it was.
    const picked = await runCli(ws, ['hint', '1', '--todo', '1.2']);
    expect(picked.stdout).toMatch(/TODO 1\.2: .*\(you asked for it\)[\s\S]*Hint 1 of 3/);
    expect(picked.stdout).toContain('npm run hint:1 -- --todo 1.2');

    const reset = await runCli(ws, ['hint', '1', '--reset']);
    expect(reset.code).toBe(0);
    const again = await runCli(ws, ['hint', '1']);
    expect(again.stdout).toMatch(/TODO 1\.4[\s\S]*Hint 1 of 3/);

    const unknown = await runCli(ws, ['hint', '1', '--todo', '1.9']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('It has hints for: 1.1, 1.2, 1.3, 1.4, 1.5.');
  });
});

describe('diff:N', () => {
  it("shows the learner's code against the solution's, without colour off a terminal, and the lesson text left out", { timeout: SLOW }, async () => {
    const ws = makeWorkspace();
    const result = await runCli(ws, ['diff', '1']);
    expect(result.code, result.all).toBe(0);
    expect(result.stdout).toContain('--- lessons/01-open-server/server.ts');
    expect(result.stdout).toContain('+++ solutions/01-open-server/server.ts');
    expect(result.stdout).toMatch(/^-  \/\/ TODO 1\.5: /m);
    expect(result.stdout).toMatch(/^\+  app\.get\('\/mcp', methodNotAllowed\);$/m);
    expect(result.stdout).not.toContain('README.md');
    expect(result.stdout).not.toContain('\u001b[');
  });

  it('--starter shows the fixed starter-to-solution diff, whatever the learner changed; a solved lesson matches', { timeout: SLOW }, async () => {
    const ws = makeWorkspace();
    const starterDiff = (await runCli(ws, ['diff', '1', '--starter'])).stdout;
    write(lessonFile(ws, 'server.ts'), read(lessonFile(ws, 'server.ts', 'solutions')));
    const mine = await runCli(ws, ['diff', '1']);
    expect(mine.stdout).toContain('Your code matches the reference solution');
    const starterAfter = (await runCli(ws, ['diff', '1', '--starter'])).stdout;
    expect(starterAfter).toBe(starterDiff);
    expect(starterAfter).toMatch(/^-  \/\/ TODO 1\.1: /m);
  });
});

describe('reset:N', () => {
  it('refuses without a yes, and changes nothing', { timeout: SLOW }, async () => {
    const ws = makeWorkspace();
    write(lessonFile(ws, 'server.ts'), '// my own work\n');
    const result = await runCli(ws, ['reset', '1']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('npm run reset:1 -- --yes');
    expect(read(lessonFile(ws, 'server.ts'))).toBe('// my own work\n');
    expect(existsSync(path.join(ws, '.lab', 'backups'))).toBe(false);
  });

  it('with --yes, backs up what it replaces, restores the starter (even deleted files), and keeps extra files', { timeout: SLOW }, async () => {
    const ws = makeWorkspace();
    const starter = read(lessonFile(ws, 'server.ts'));
    const mainTs = read(lessonFile(ws, 'main.ts'));
    write(lessonFile(ws, 'server.ts'), '// my own work\n');
    write(lessonFile(ws, 'notes.md'), 'my notes\n');
    rmSync(lessonFile(ws, 'main.ts'));
    const result = await runCli(ws, ['reset', '1', '--yes']);
    expect(result.code, result.all).toBe(0);
    expect(read(lessonFile(ws, 'server.ts'))).toBe(starter);
    expect(read(lessonFile(ws, 'main.ts'))).toBe(mainTs);
    expect(read(lessonFile(ws, 'notes.md'))).toBe('my notes\n');

    const backups = readdirSync(path.join(ws, '.lab', 'backups'));
    expect(backups).toHaveLength(1);
    expect(backups[0]).toMatch(/^01-open-server-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}$/);
    expect(read(path.join(ws, '.lab', 'backups', backups[0]!, 'server.ts'))).toBe('// my own work\n');
    expect(result.stdout).toContain(`.lab/backups/${backups[0]}`);

    const again = await runCli(ws, ['reset', '1', '--yes']);
    expect(again.stdout).toContain('nothing to reset');
    expect(readdirSync(path.join(ws, '.lab', 'backups'))).toHaveLength(1);
  });
});

describe('progress', () => {
  it('shows not started, started and done, from the files and the latest checks; --recheck runs the tests', { timeout: SLOW }, async () => {
    const ws = makeWorkspace();
    const fresh = await runCli(ws, ['progress']);
    expect(fresh.code, fresh.all).toBe(0);
    expect(fresh.stdout).toMatch(/○\s+1\s+The open server\s+not started/);
    expect(fresh.stdout).toMatch(/·\s+2\s+.*\(coming\)/);

    const starter = read(lessonFile(ws, 'server.ts'));
    write(lessonFile(ws, 'server.ts'), `${starter}\n// started\n`);
    expect((await runCli(ws, ['progress'])).stdout).toMatch(/◐\s+1\s+The open server\s+started · files edited, not checked yet/);

    // Failing tests of untouched starter code do not make a lesson "started".
    write(lessonFile(ws, 'server.ts'), starter);
    const untouched = await runCli(ws, ['progress', '--recheck']);
    expect(untouched.stdout, untouched.all).toMatch(/○\s+1\s+The open server\s+not started · 1 of 9 tests pass · next: TODO 1\.4/);

    write(lessonFile(ws, 'server.ts'), read(lessonFile(ws, 'server.ts', 'solutions')));
    const rechecked = await runCli(ws, ['progress', '--recheck']);
    expect(rechecked.stdout).toMatch(/lesson 1 … 9 of 9 tests pass/);
    expect(rechecked.stdout).toMatch(/✓\s+1\s+The open server\s+done · 9 tests pass · checked just now/);
    // The result is kept: a plain progress still knows.
    expect((await runCli(ws, ['progress'])).stdout).toMatch(/✓\s+1\s+The open server\s+done/);
  });
});
