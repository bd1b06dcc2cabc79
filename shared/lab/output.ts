/**
 * How the lab tooling talks to the learner: one-line errors, a little colour, and the commands to run next.
 */
import { styleText } from 'node:util';

/**
 * A mistake the learner can fix (an unknown lesson, a port in use, a missing file). The CLI prints its
 * message as one line, never a stack trace.
 */
export class LabError extends Error {
  static readonly code = 'ERR_LAB';
  /** Stable, for decisions by kind (jose's style); the message is for the learner and may change. */
  readonly code = LabError.code;
  override name = 'LabError';
}

/** Colour only on an interactive terminal, and never when NO_COLOR is set (https://no-color.org). */
const useColor = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;

/** A painter for one `util.styleText` format that leaves the text plain when colour is off. */
const paint = (format: Parameters<typeof styleText>[0]) => (text: string) => (useColor ? styleText(format, text) : text);

/** Text styles for the lab's own lines (plain when colour is off). */
export const bold = paint('bold');
export const dim = paint('dim');
export const red = paint('red');
export const green = paint('green');
export const yellow = paint('yellow');
export const cyan = paint('cyan');

/** The lab's own lines go to stdout; a lesson server's logs go to stderr, so the two are easy to tell apart. */
export function say(line = ''): void {
  console.log(line);
}

/** An error line for the learner: what went wrong and what to do. */
export function sayError(message: string): void {
  console.error(red(`✘ ${message}`));
}

/** Commands longer than this get their explanation on the next line instead of a column. */
const COLUMN_LIMIT = 40;

/** "Next:" followed by commands, each on its own line, aligned with its explanation. */
export function sayNext(title: string, steps: ReadonlyArray<readonly [command: string, why: string]>): void {
  say(bold(title));
  const width = Math.max(0, ...steps.map(([command]) => command.length).filter((length) => length <= COLUMN_LIMIT));
  for (const [command, why] of steps) {
    if (command.length > COLUMN_LIMIT) {
      say(`  ${cyan(command)}`);
      say(`  ${' '.repeat(width)}   ${why}`);
    } else {
      say(`  ${cyan(command.padEnd(width))}   ${why}`);
    }
  }
}

/** "3 tests" / "1 test". */
export function tests(count: number): string {
  return `${count} test${count === 1 ? '' : 's'}`;
}

/** `npm run <script>` for a script name, the way learners type it. */
export function npmRun(script: string): string {
  return script === 'test' ? 'npm test' : `npm run ${script}`;
}
