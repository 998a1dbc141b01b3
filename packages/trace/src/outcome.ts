/**
 * The outcome of a step — a call's result or a maps step's lines — as a
 * replay reports it.
 */
import type { MapsLine, TraceResult } from './model.js';

/** A replacement for a step's outcome: a result for a call, the lines for a `@maps` step. */
export type StepOutcome = TraceResult | readonly MapsLine[];

/** True if `outcome` is a maps step's lines rather than a call's result. */
export function isMapsOutcome(outcome: StepOutcome): outcome is readonly MapsLine[] {
  return Array.isArray(outcome);
}
