/**
 * `npm run check:N` (and `check:N:watch`): run lesson N's tests against the learner's code, then say what
 * to do next.
 */
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { findLesson, LESSON_TABLE, nextLesson, repoPath, ROOT, type Lesson } from './lessons.ts';
import { bold, dim, green, LabError, npmRun, red, say, sayNext } from './output.ts';
import { listenForStop, runNode, vitestBin } from './processes.ts';
import { readTestCounts, tests, type TestCounts } from './vitestReport.ts';

export async function checkLesson(arg: string | undefined, watch: boolean): Promise<number> {
  const lesson = findLesson(arg);
  if (!existsSync(lesson.testFile)) {
    throw new LabError(
      `${repoPath(lesson.testFile)} is missing, so lesson ${lesson.number} cannot be checked. Restore it with git checkout -- ${repoPath(lesson.testFile)}`,
    );
  }
  const testFile = repoPath(lesson.testFile);
  say(bold(`Checking lesson ${lesson.number} · ${lesson.title}`) + dim(` (${repoPath(lesson.lessonDir)})`));
  // Print the real command, so nobody depends on this wrapper to run the tests.
  say(dim(`Runs: npx vitest ${watch ? '' : 'run '}${testFile}   with LAB_TARGET=lessons`));
  say();
  const env = { ...process.env, LAB_TARGET: 'lessons' };

  if (watch) {
    // Ctrl+C reaches vitest too; stay alive to print the footer after it stops.
    const stop = listenForStop();
    const { code } = await runNode([vitestBin(), 'watch', testFile], { env });
    stop.dispose();
    say();
    say(`Stopped watching. Next: ${npmRun(`check:${lesson.number}`)} for a single run, or ${npmRun(`lesson:${lesson.number}`)} to try your server.`);
    return code;
  }

  // The report stays in the git-ignored state folder: evidence of progress for later commands.
  const report = path.resolve(ROOT, process.env.LAB_STATE_DIR || '.lab', 'checks', `${lesson.folder}.json`);
  rmSync(report, { force: true });
  const { code } = await runNode([vitestBin(), 'run', testFile, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`], {
    env,
  });
  say();
  printFooter(lesson, code, readTestCounts(report));
  return code;
}

function printFooter(lesson: Lesson, code: number, counts: TestCounts | undefined): void {
  const n = lesson.number;
  if (code === 0) {
    say(green(`✔ Lesson ${n} passes${counts ? ` (${tests(counts.passed)})` : ''}.`));
    const next = nextLesson(lesson);
    if (next) {
      say(`Next: ${npmRun(`lesson:${next.number}`)} (or the README's next step). Start by reading ${repoPath(next.lessonDir)}/README.md.`);
    } else {
      const coming = LESSON_TABLE.find((row) => row.number > n);
      say(
        coming
          ? `Next: the README's next step. Lesson ${coming.number} (${coming.title}) is coming.`
          : "That was the last lesson. Next: the README's closing notes.",
      );
    }
    return;
  }

  say(red(`✘ Lesson ${n} does not pass yet: ${summary(counts, code)}.`));
  sayNext('Next:', [
    [`${repoPath(lesson.lessonDir)}/README.md`, 're-read the TODOs it names (each failure above says which TODO to look at)'],
    [npmRun(`check:${n}`), `check again (${npmRun(`check:${n}:watch`)} re-checks on every save)`],
    [npmRun(`solution:${n}`), 'see the reference solution run'],
  ]);
}

function summary(counts: TestCounts | undefined, code: number): string {
  if (!counts) return `the tests did not finish (vitest exited with code ${code}); read the output above`;
  if (counts.failed > 0) return `${counts.failed} of ${tests(counts.total)} fail`;
  if (counts.brokenFiles > 0) return 'the test file could not run; read the error above';
  return `vitest exited with code ${code}; read the output above`;
}
