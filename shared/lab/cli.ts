/**
 * The lab CLI behind the npm scripts:
 *
 *   run lessons N      npm run lesson:N        run your code for lesson N (and its demo)
 *   run solutions N    npm run solution:N      run the reference solution
 *   check N [--watch]  npm run check:N[:watch] run lesson N's tests against your code
 *   emulator           npm run emulator        the offline Entra ID sign-in pages on their own
 *
 * Mistakes the learner can fix (ConfigError, LabError) print one line and exit 1; anything else is a
 * bug in the workshop and keeps its stack trace.
 */
import './requireNode.ts';
import { ConfigError } from '../config.ts';
import { checkLesson } from './checkLesson.ts';
import { emulatorCommand } from './emulatorCommand.ts';
import { availableLessons } from './lessons.ts';
import { LabError, say, sayError } from './output.ts';
import { runLesson } from './runLesson.ts';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const positional = rest.filter((arg) => !arg.startsWith('--'));
  switch (command) {
    case 'run': {
      const [kind, lesson] = positional;
      if (kind !== 'lessons' && kind !== 'solutions') throw new LabError(`Usage: cli.ts run <lessons|solutions> <N>; got "${kind ?? ''}".`);
      return runLesson(kind, lesson);
    }
    case 'check':
      return checkLesson(positional[0], rest.includes('--watch'));
    case 'emulator':
      return emulatorCommand();
    default:
      printUsage(command);
      return command === undefined || command === 'help' || command === '--help' ? 0 : 1;
  }
}

function printUsage(command: string | undefined): void {
  if (command !== undefined && command !== 'help' && command !== '--help') sayError(`Unknown command "${command}".`);
  const first = availableLessons()[0]?.number ?? 1;
  say('Workshop commands (npm scripts):');
  say(`  npm run lesson:${first}         run your code for a lesson`);
  say(`  npm run solution:${first}       run the reference solution`);
  say(`  npm run check:${first}          check your code against the lesson's tests`);
  say(`  npm run check:${first}:watch    the same, again on every save`);
  say('  npm run emulator         the offline Entra ID sign-in pages on their own');
  say('  npm test                 the workshop self-test (for maintainers)');
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof ConfigError || error instanceof LabError) {
    sayError(error.message);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
