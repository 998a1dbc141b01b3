/**
 * Raising {@link TraceSyntaxError}s with a position, and quoting the offending
 * text briefly (a malformed line may be very long).
 */
import { TraceSyntaxError, type SourcePos } from './model.js';

/** Throw a {@link TraceSyntaxError} for `pos`. */
export function fail(pos: SourcePos, reason: string): never {
  throw new TraceSyntaxError(pos.file, pos.line, reason);
}

/** `text` quoted for an error message, cut to a readable length. */
export function quote(text: string, max = 60): string {
  const cut = text.length > max ? text.slice(0, max) + '…' : text;
  return JSON.stringify(cut);
}
