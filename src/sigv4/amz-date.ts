/** The two time formats SigV4 meets: ISO-8601 basic (`X-Amz-Date`) and the HTTP `Date` header. */

const ISO_BASIC = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const IMF_FIXDATE =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const MONTHS = 'JanFebMarAprMayJunJulAugSepOctNovDec';

// Requests signed in the same second share their timestamp, and parse and verify both read it.
let lastValue = '';
let lastMs = NaN;

/** `YYYYMMDDTHHMMSSZ` → ms since the epoch, or NaN when malformed or not a real date. */
export function parseAmzDate(value: string): number {
  if (value === lastValue) return lastMs;
  const m = ISO_BASIC.exec(value);
  const ms = m === null ? NaN : utc(+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  lastValue = value;
  lastMs = ms;
  return ms;
}

/**
 * An HTTP `Date` header (IMF-fixdate, `Sun, 30 Aug 2015 12:36:00 GMT`) → `YYYYMMDDTHHMMSSZ`,
 * or undefined. AWS accepts `Date` when `X-Amz-Date` is absent; the string to sign still
 * carries the ISO-8601 basic form.
 */
export function httpDateToAmzDate(value: string): string | undefined {
  const m = IMF_FIXDATE.exec(value);
  if (m === null) return undefined;
  const month = MONTHS.indexOf(m[2]!) / 3 + 1;
  const ms = utc(+m[3]!, month, +m[1]!, +m[4]!, +m[5]!, +m[6]!);
  return Number.isNaN(ms) ? undefined : formatAmzDate(ms);
}

/** ms since the epoch → `YYYYMMDDTHHMMSSZ` (seconds precision). */
export function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '');
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Date.UTC that rejects out-of-range fields instead of rolling them over (Feb 30 → NaN). */
function utc(y: number, mo: number, d: number, h: number, mi: number, s: number): number {
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const days = mo === 2 && leap ? 29 : (DAYS_IN_MONTH[mo - 1] ?? 0);
  if (y < 1000 || d < 1 || d > days || h > 23 || mi > 59 || s > 59) return NaN;
  return Date.UTC(y, mo - 1, d, h, mi, s);
}
