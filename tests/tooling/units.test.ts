/**
 * The pure parts of the lab tooling: the hints parser, the line diff, the points allocation, and the
 * hint files and starter copies that ship with the workshop.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { firstTodo } from '../../shared/lab/checkResults.ts';
import { unifiedDiff } from '../../shared/lab/diff.ts';
import { formatCsv, formatTable, type GradeReport } from '../../shared/lab/grading/report.ts';
import { testPoints, type GradingConfig } from '../../shared/lab/gradingConfig.ts';
import { hintsFile, parseHints } from '../../shared/lab/hints.ts';
import { availableLessons } from '../../shared/lab/lessons.ts';
import { readFolder } from '../../shared/lab/starters.ts';

describe('hints', () => {
  it('parses TODO sections into tiers, keeping multi-line tiers and code blocks whole', () => {
    const todos = parseHints(
      [
        '# Hints: lesson 7',
        '',
        '## TODO 7.1: first step',
        '1. A nudge.',
        '2. The API:',
        '   `thing()` does it.',
        '3. The shape:',
        '   ```',
        '   1. not a new tier inside a code block',
        '   ```',
        '## TODO 7.2: second step',
        '1. Only one tier.',
      ].join('\n'),
    );
    expect(todos.map((todo) => [todo.id, todo.title, todo.tiers.length])).toEqual([
      ['7.1', 'first step', 3],
      ['7.2', 'second step', 1],
    ]);
    expect(todos[0]!.tiers[1]).toBe('The API:\n`thing()` does it.');
    expect(todos[0]!.tiers[2]).toContain('1. not a new tier inside a code block');
  });

  it('every hints file that ships parses: three tiers per TODO, and every TODO exists in its starter', () => {
    const dir = path.join(import.meta.dirname, '../../shared/lab/hints');
    const files = readdirSync(dir).filter((name) => /^\d{2}-.*\.md$/.test(name));
    expect(files.length, 'shared/lab/hints/ should hold at least the hints of lesson 1').toBeGreaterThan(0);
    for (const name of files) {
      const number = Number(name.slice(0, 2));
      const todos = parseHints(readFileSync(path.join(dir, name), 'utf8'));
      expect(todos.length, `${name} has no "## TODO ${number}.x: title" section with numbered hints`).toBeGreaterThan(0);
      const lesson = availableLessons().find((candidate) => candidate.number === number);
      const starter = lesson ? [...readFolder(lesson.lessonDir).values()].join('\n') : '';
      for (const todo of todos) {
        expect(todo.id.startsWith(`${number}.`), `${name}: TODO ${todo.id} belongs to another lesson`).toBe(true);
        expect(todo.tiers.length, `${name}: TODO ${todo.id} should have three tiers (nudge, API, shape)`).toBe(3);
        if (lesson) expect(starter, `${name}: TODO ${todo.id} has hints but no "TODO ${todo.id}" in ${lesson.folder}`).toContain(`TODO ${todo.id}`);
      }
    }
    expect(existsSync(hintsFile({ folder: '01-open-server' }))).toBe(true);
  });

  it('takes the TODO from the first failure that names one', () => {
    const failures = [{ message: 'no TODO here' }, { message: 'See TODO 1.4 in server.ts' }, { message: 'TODO 1.1' }];
    expect(firstTodo(failures)).toBe('1.4');
    expect(firstTodo([{ message: 'register them (TODOs 2.1–2.3 in x.ts)' }])).toBe('2.1');
    expect(firstTodo([{ message: 'nothing' }])).toBeUndefined();
    // A test quoting a stub's answer points at its own step, not at the stub's.
    const quoted = 'send_mail should be refused with 403; it answered: TODO 4.5: get a Graph token (README, step 4.5). See TODO 4.4 in scopes.ts.';
    expect(firstTodo([{ message: quoted }])).toBe('4.4');
    expect(firstTodo([{ message: 'it answered: TODO 4.5: get a token.' }, { message: 'See TODO 4.2 in verifier.ts.' }])).toBe('4.2');
    // With no test pointer at all, the stub's own TODO is still better than nothing.
    expect(firstTodo([{ message: 'Could not load x.ts: TODO 2.1: create the app.' }])).toBe('2.1');
  });
});

describe('unified diff', () => {
  /** Rebuilds one side of a unified diff from its hunks' lines (' ' and '-' lines are the old side). */
  const side = (lines: string[], keep: '-' | '+') =>
    lines.filter((line) => !line.startsWith('---') && !line.startsWith('+++') && !line.startsWith('@@') && !line.startsWith('\\'))
      .filter((line) => line[0] === ' ' || line[0] === keep)
      .map((line) => line.slice(1));

  it('marks removed (-) and added (+) lines between kept ones', () => {
    expect(unifiedDiff('a\nb\nc\nd\n', 'a\nB\nc\nd\ne\n', 'old', 'new')).toEqual(['--- old', '+++ new', '@@ -1,4 +1,5 @@', ' a', '-b', '+B', ' c', ' d', '+e']);
  });

  it('ignores Windows line endings and gives nothing for equal texts', () => {
    expect(unifiedDiff('x\r\ny\r\n', 'x\ny\n', 'old', 'new')).toEqual([]);
  });

  it('writes one hunk per distant change, each rebuilding its part of both texts', () => {
    const oldText = Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n') + '\n';
    const newText = oldText.replace('line 3\n', 'line three\n').replace('line 25\n', 'line 25\nextra\n');
    const out = unifiedDiff(oldText, newText, 'old', 'new');
    expect(out.filter((line) => line.startsWith('@@'))).toEqual(['@@ -1,7 +1,7 @@', '@@ -24,6 +24,7 @@']);
    expect(side(out, '-')).toContain('line 3');
    expect(side(out, '+')).toEqual(expect.arrayContaining(['line three', 'extra']));
  });
});

describe('points', () => {
  const config: GradingConfig = { file: 'grading.json', timeLimitSeconds: 60, defaultLessonPoints: 10, lessons: { '1': { points: 10, tests: { 'b test': 0, 'gone test': 3 } } } };

  it('shares a lesson evenly, gives named tests their points, and always adds up exactly', () => {
    const names = ['suite > a test', 'suite > b test', 'suite > c test', 'other > d test'];
    const { points, unknown } = testPoints(config, 1, names);
    expect(points.get('suite > b test')).toBe(0);
    expect([...points.values()].reduce((sum, value) => sum + value, 0)).toBeCloseTo(10, 10);
    expect(points.get('suite > a test')).toBe(3.34);
    expect(points.get('other > d test')).toBe(3.33);
    expect(unknown).toEqual(['gone test']);
    // A lesson the file does not list gets defaultLessonPoints.
    expect([...testPoints(config, 2, ['x', 'y']).points.values()]).toEqual([5, 5]);
  });

  it('formats the table and a CSV with quoted fields', () => {
    const report = {
      lessons: [{ number: 1, folder: '01-x', title: 'X', maxPoints: 10, tests: [] }],
      workspaces: [
        { name: 'ada', path: '/a', points: 10, maxPoints: 10, lessons: [{ number: 1, status: 'passed', points: 10, maxPoints: 10, modifiedOwnFiles: [] }] },
        { name: 'b,"c"', path: '/b', points: 0, maxPoints: 10, lessons: [{ number: 1, status: 'timeout', points: 0, maxPoints: 10, modifiedOwnFiles: [] }] },
      ],
    } as unknown as GradeReport;
    expect(formatTable(report)[2]).toMatch(/^ada\s+10\/10\s+10\/10$/);
    expect(formatTable(report)[3]).toContain('0/10 hung');
    expect(formatCsv(report).split('\r\n')).toEqual(['workspace,lesson 1,total,max,notes', 'ada,10,10,10,', '"b,""c""",0,0,10,lesson 1: hung', '']);
  });
});
