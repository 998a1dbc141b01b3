/**
 * `@mmsim/trace`: the mmsim trace format (`shared/spec/trace-format.md`) —
 * strace notation plus directives and pseudo-calls for what strace cannot
 * show. Read a trace with {@link parseTrace}, write it back (byte for byte, or
 * with a replay's results) with {@link printTrace}, judge a replay against a
 * golden trace with {@link compareTraces} / {@link compareResults}, and turn
 * raw `strace -e trace=%memory` output into steps with {@link parseStraceLog}.
 * @packageDocumentation
 */
export * from './model.js';
export { parseTrace, TRACE_MAGIC } from './parse.js';
export { MAX_LINE_LENGTH } from './lines.js';
export { parseCallStep } from './step.js';
export { parseResult, formatResult } from './result.js';
export { parseMapsLine, formatMapsLine, withTmpfileInode, MAPS_NAME_COLUMN } from './maps.js';
export { DEFAULT_CONFIG, CONFIG_KEYS, parseConfigValue, buildConfig, defaultHeader, type ConfigValue } from './config.js';
export { CALL_SIGNATURES, isCallName, type ArgKind, type CallSignature, type ResultStyle } from './calls.js';
export { parseArg } from './args.js';
export { decodeCString } from './strings.js';
export { parseInteger } from './numbers.js';
export { isMapsOutcome, type StepOutcome } from './outcome.js';
export {
  printTrace,
  formatStep,
  formatArgs,
  formatCall,
  formatComment,
  formatHeader,
  formatMapsBlock,
} from './print.js';
export {
  compareTraces,
  compareResults,
  resultsEqual,
  argsEqual,
  mapsEqual,
  mapsLineEqual,
  diffMaps,
  formatMapsKey,
  type Comparison,
  type Divergence,
} from './compare.js';
export { parseStraceLog, type StraceLog } from './strace.js';
