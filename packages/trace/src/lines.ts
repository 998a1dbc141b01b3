/**
 * Splitting text into numbered lines without copying it all at once, and
 * rejecting over-long lines before looking at them.
 */
import type { SourcePos } from './model.js';
import { fail } from './errors.js';

/** The longest line accepted (in UTF-16 code units); longer lines are rejected at once. */
export const MAX_LINE_LENGTH = 64 * 1024;

/** One line of a file, without its `\n`. */
export interface Line {
  readonly text: string;
  readonly pos: SourcePos;
}

/**
 * The lines of `text` (split at `\n`; a final `\n` does not start another
 * line). Throws a {@link TraceSyntaxError} for a line longer than
 * {@link MAX_LINE_LENGTH}.
 */
export function* splitLines(text: string, file: string): Generator<Line> {
  let at = 0;
  let line = 0;
  while (at < text.length) {
    line++;
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    const pos: SourcePos = { file, line };
    if (end - at > MAX_LINE_LENGTH) {
      fail(pos, `line is longer than ${MAX_LINE_LENGTH} characters (${end - at}): not a trace`);
    }
    yield { text: text.slice(at, end), pos };
    at = end + 1;
  }
}
