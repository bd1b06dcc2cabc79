/**
 * What the latest `check:N` of a lesson found, read back from the lab reporter's events in
 * `.lab/checks/`: for `progress` and `hint:N`.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Lesson } from './lessons.ts';
import { readFolder } from './starters.ts';
import { checkEventsFile } from './state.ts';
import { countTests, readRunEvents, type RunEvents, type TestEvent } from './suiteRun.ts';

/** The latest `check:N` of one lesson, as `progress` and `hint:N` see it. */
export interface LatestCheck {
  /** False when the lesson was never checked (or its results were cleared by reset:N). */
  ran: boolean;
  passed: boolean;
  passedCount: number;
  total: number;
  /** The TODO named by the first failure that names one. */
  firstTodo?: string;
  when?: Date;
  /** A file of the lesson changed after that check ran. */
  stale: boolean;
}

/**
 * A test's own pointer: "See TODO 1.4", "TODO 3.2 in app.ts", "TODOs 1.1–1.3". Not "TODO 4.5: …", the
 * way a starter's stub words its error: a test that quotes what the code answered may quote a stub of
 * another step, and must not send the learner there.
 */
const POINTER = /TODOs? (\d+\.\d+)(?![\d:])/;
const ANY_TODO = /TODOs? (\d+\.\d+)/;

/**
 * "1.4" from the first failure (or file error) that points at a TODO; when none does, the first TODO a
 * stub's error names (a file that throws at import, say).
 */
export function firstTodo(failures: Pick<TestEvent, 'message'>[], events?: Pick<RunEvents, 'errors'>): string | undefined {
  const messages = [...(events?.errors ?? []).map((error) => error.message), ...failures.map((failure) => failure.message)];
  for (const pattern of [POINTER, ANY_TODO]) {
    for (const message of messages) {
      const match = pattern.exec(message);
      if (match) return match[1];
    }
  }
  return undefined;
}

/** The latest check of `lesson`, and whether a lesson file changed since (then it is `stale`). */
export function readLatestCheck(lesson: Lesson): LatestCheck {
  const file = checkEventsFile(lesson);
  if (!existsSync(file)) return { ran: false, passed: false, passedCount: 0, total: 0, stale: false };
  const events = readRunEvents(file);
  const counts = countTests(events);
  const when = statSync(file).mtimeMs;
  return {
    ran: true,
    passed: counts.allPassed,
    passedCount: counts.passed,
    total: counts.total,
    firstTodo: firstTodo(counts.failures, events),
    when: new Date(when),
    stale: [...readFolder(lesson.lessonDir).keys()].some((name) => statSync(path.join(lesson.lessonDir, ...name.split('/'))).mtimeMs > when),
  };
}
