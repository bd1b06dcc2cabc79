/**
 * The points file of `npm run grade`: `grading.json` at the repository root, checked in, for instructors
 * to edit.
 *
 *   {
 *     "timeLimitSeconds": 180,          per lesson and workspace; a suite still running then is stopped
 *     "defaultLessonPoints": 10,        for a lesson the file does not list
 *     "lessons": {
 *       "1": { "points": 10, "tests": { "<test title or full name>": 0 } }
 *     }
 *   }
 *
 * A lesson's points are shared evenly by its tests, except the tests named under "tests", which get
 * exactly the points given there (0 takes a test out of the grade, e.g. one that passes from the
 * start); the others share what is left. Points are kept to hundredths and always add up.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoPath, ROOT } from './lessons.ts';
import { LabError } from './output.ts';

/** A lesson's entry in `grading.json`: its total points, and points per test by full name (the rest share what is left). */
export interface LessonPoints {
  points?: number;
  tests?: Record<string, number>;
}

/** `grading.json`, with its defaults filled in. */
export interface GradingConfig {
  /** The file it came from, for messages and the report. */
  file: string;
  timeLimitSeconds: number;
  defaultLessonPoints: number;
  lessons: Record<string, LessonPoints>;
}

/** `grading.json` at the repository root, used when `--points` is not given. */
export const DEFAULT_POINTS_FILE = path.join(ROOT, 'grading.json');

/**
 * Reads a points file; a missing file gives the defaults (180 s per lesson, 10 points each). Throws a
 * `LabError` naming the file and the field for JSON it cannot use.
 */
export function readGradingConfig(file = DEFAULT_POINTS_FILE): GradingConfig {
  const shown = file.startsWith(ROOT) ? repoPath(file) : file;
  const defaults: GradingConfig = { file: shown, timeLimitSeconds: 180, defaultLessonPoints: 10, lessons: {} };
  if (!existsSync(file)) {
    if (file === DEFAULT_POINTS_FILE) return { ...defaults, file: '(none: every lesson 10 points)' };
    throw new LabError(`The points file ${file} does not exist.`);
  }
  let raw: Partial<GradingConfig>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<GradingConfig>;
  } catch (error) {
    throw new LabError(`${shown} is not valid JSON: ${(error as Error).message}. Fix it, or remove it to give every lesson 10 points.`);
  }
  const positive = (value: unknown, name: string, fallback: number) => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !(value >= 0)) throw new LabError(`${shown}: ${name} must be a number of 0 or more; got ${JSON.stringify(value)}.`);
    return value;
  };
  const lessons: Record<string, LessonPoints> = {};
  for (const [number, entry] of Object.entries(raw.lessons ?? {})) {
    if (!/^\d+$/.test(number) || typeof entry !== 'object' || entry === null) {
      throw new LabError(`${shown}: "lessons" maps lesson numbers to { "points": …, "tests": { … } }; "${number}" is not that.`);
    }
    const tests: Record<string, number> = {};
    for (const [name, points] of Object.entries(entry.tests ?? {})) tests[name] = positive(points, `lessons.${number}.tests["${name}"]`, 0);
    lessons[String(Number(number))] = { points: positive(entry.points, `lessons.${number}.points`, positive(raw.defaultLessonPoints, 'defaultLessonPoints', 10)), tests };
  }
  const timeLimitSeconds = positive(raw.timeLimitSeconds, 'timeLimitSeconds', defaults.timeLimitSeconds);
  if (timeLimitSeconds === 0) throw new LabError(`${shown}: timeLimitSeconds must be more than 0.`);
  return {
    file: shown,
    timeLimitSeconds,
    defaultLessonPoints: positive(raw.defaultLessonPoints, 'defaultLessonPoints', defaults.defaultLessonPoints),
    lessons,
  };
}

/** The test's own title: the last part of vitest's full name ("suite > test"). */
function title(fullName: string): string {
  return fullName.split(' > ').at(-1)!;
}

/**
 * Points per test of one lesson (by full name), and the names in the file that match no test.
 * Named tests get their points; the rest of the lesson's points are shared in hundredths, the odd
 * hundredths going to the first tests, so the lesson's total is exact.
 */
export function testPoints(config: GradingConfig, lesson: number, fullNames: string[]): { points: Map<string, number>; unknown: string[] } {
  const entry = config.lessons[String(lesson)] ?? {};
  const lessonPoints = entry.points ?? config.defaultLessonPoints;
  const named = entry.tests ?? {};
  const points = new Map<string, number>();
  const used = new Set<string>();
  for (const fullName of fullNames) {
    const key = fullName in named ? fullName : title(fullName) in named ? title(fullName) : undefined;
    if (key === undefined) continue;
    points.set(fullName, named[key]!);
    used.add(key);
  }
  const others = fullNames.filter((fullName) => !points.has(fullName));
  const namedCents = Math.round([...points.values()].reduce((sum, value) => sum + value, 0) * 100);
  const restCents = Math.max(0, Math.round(lessonPoints * 100) - namedCents);
  others.forEach((fullName, index) => {
    const cents = Math.floor(restCents / others.length) + (index < restCents % others.length ? 1 : 0);
    points.set(fullName, cents / 100);
  });
  return { points, unknown: Object.keys(named).filter((name) => !used.has(name)) };
}
