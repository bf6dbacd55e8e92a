/** The --from/--to options of the commands that read a topic over a time range. */
import { type Command, InvalidArgumentError } from 'commander';

/** A time given on the command line: an instant, or a duration before the moment the command runs. */
export type TimeArgument = { at: number } | { ago: number };

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const AGO = /^(\d+(?:\.\d+)?)([smhd])$/;
// ISO 8601 only: Date.parse alone would also take whatever the JavaScript engine guesses at.
const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export function parseTimeArgument(text: string): TimeArgument {
  const ago = AGO.exec(text);
  if (ago) return { ago: Number(ago[1]) * UNIT_MS[ago[2]!]! };
  const at = ISO.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isFinite(at)) return { at };
  throw new InvalidArgumentError(
    'expected an ISO 8601 time (2026-05-01T10:00:00Z) or a time ago (30s, 15m, 2h, 7d)',
  );
}

export const isoTime = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

export interface TimeRangeFlags {
  from?: TimeArgument;
  to?: TimeArgument;
}

export interface TimeRange {
  fromMs: number | undefined;
  toMs: number | undefined;
  /** The one instant both ends were resolved at, so `--from 2h --to 1h` is exactly an hour. */
  nowMs: number;
}

/** Adds --from and --to to `command`. */
export function timeRangeOptions(command: Command): Command {
  return command
    .option(
      '--from <time>',
      'start, ISO 8601 or a time ago such as 15m or 2h (default: the beginning)',
      parseTimeArgument,
    )
    .option('--to <time>', 'end, exclusive, in the same forms (default: now)', parseTimeArgument);
}

/** The range the flags give, or the command's error when --from is not before --to. */
export function resolveTimeRange(flags: TimeRangeFlags, command: Command): TimeRange {
  const nowMs = Date.now();
  const resolve = (time: TimeArgument | undefined) =>
    time === undefined ? undefined : 'at' in time ? time.at : nowMs - time.ago;
  const fromMs = resolve(flags.from);
  const toMs = resolve(flags.to);
  if (fromMs !== undefined && toMs !== undefined && fromMs >= toMs) {
    command.error(`error: --from (${isoTime(fromMs)}) must be before --to (${isoTime(toMs)})`);
  }
  return { fromMs, toMs, nowMs };
}
