import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TraceSyntaxError, parseTrace, printTrace } from '../src/index.js';
import { goldenTraces } from './helpers.js';

/** Small golden traces to mutate (the seed walkthroughs). */
const seeds = goldenTraces()
  .filter(([f]) => f.startsWith('seed-'))
  .map(([, text]) => text);

type Mutation =
  | { kind: 'flip'; at: number; char: string }
  | { kind: 'truncate'; at: number }
  | { kind: 'duplicate'; line: number }
  | { kind: 'swap'; a: number; b: number }
  | { kind: 'delete'; line: number }
  | { kind: 'insert'; line: number; text: string };

const index = fc.nat({ max: 1_000_000 });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: index, char: fc.oneof(fc.string({ minLength: 1, maxLength: 1 }), fc.constantFrom('\0', '\n', '"', '(', ')', ',', '|', '=', '@', '#', '-', '\\', ' ', 'x', '0', '9', 'f', '\ufffd')) }),
  fc.record({ kind: fc.constant('truncate' as const), at: index }),
  fc.record({ kind: fc.constant('duplicate' as const), line: index }),
  fc.record({ kind: fc.constant('swap' as const), a: index, b: index }),
  fc.record({ kind: fc.constant('delete' as const), line: index }),
  fc.record({ kind: fc.constant('insert' as const), line: index, text: fc.string({ maxLength: 80 }) }),
);

function mutate(text: string, m: Mutation): string {
  if (m.kind === 'flip') {
    const at = m.at % Math.max(text.length, 1);
    return text.slice(0, at) + m.char + text.slice(at + 1);
  }
  if (m.kind === 'truncate') return text.slice(0, m.at % (text.length + 1));
  const lines = text.split('\n');
  const i = (n: number): number => n % lines.length;
  switch (m.kind) {
    case 'duplicate':
      lines.splice(i(m.line), 0, lines[i(m.line)]!);
      break;
    case 'swap': {
      const [a, b] = [i(m.a), i(m.b)];
      [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      break;
    }
    case 'delete':
      lines.splice(i(m.line), 1);
      break;
    case 'insert':
      lines.splice(i(m.line), 0, m.text);
      break;
  }
  return lines.join('\n');
}

describe('mutated traces', () => {
  it('either parse (and print stably) or throw a TraceSyntaxError with FILE:LINE', () => {
    fc.assert(
      fc.property(fc.nat({ max: seeds.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (seed, ms) => {
        const text = ms.reduce(mutate, seeds[seed]!);
        let printed: string;
        try {
          printed = printTrace(parseTrace(text, 'm.trace'));
        } catch (e) {
          if (!(e instanceof TraceSyntaxError)) throw e;
          expect(e.message).toMatch(/^m\.trace:\d+: /);
          expect(e.line).toBeGreaterThanOrEqual(1);
          expect(e.line).toBeLessThanOrEqual(text.split('\n').length);
          expect(e.reason).not.toMatch(/internal error/);
          return;
        }
        // What parses prints canonically, and the canonical form is a fixed point.
        expect(printTrace(parseTrace(printed, 'm.trace'))).toBe(printed);
      }),
      { numRuns: 1500 },
    );
  });

  it('random text never throws anything but TraceSyntaxError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300, unit: 'binary' }), fc.boolean(), (body, magic) => {
        const text = (magic ? '# mmsim-trace 1\n' : '') + body;
        try {
          parseTrace(text, 'r.trace');
        } catch (e) {
          expect(e).toBeInstanceOf(TraceSyntaxError);
          expect((e as TraceSyntaxError).reason).not.toMatch(/internal error/);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
