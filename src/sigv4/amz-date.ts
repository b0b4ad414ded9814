/** The two time formats SigV4 meets: ISO-8601 basic (`X-Amz-Date`) and the HTTP `Date` header. */

const ISO_BASIC = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const IMF_FIXDATE =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const MONTHS = 'JanFebMarAprMayJunJulAugSepOctNovDec';

/** `YYYYMMDDTHHMMSSZ` → ms since the epoch, or NaN when malformed or not a real date. */
export function parseAmzDate(value: string): number {
  const m = ISO_BASIC.exec(value);
  if (m === null) return NaN;
  return utc(+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
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

/** Date.UTC that rejects out-of-range fields instead of rolling them over (Feb 30 → NaN). */
function utc(y: number, mo: number, d: number, h: number, mi: number, s: number): number {
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const t = new Date(ms);
  const exact =
    t.getUTCFullYear() === y &&
    t.getUTCMonth() === mo - 1 &&
    t.getUTCDate() === d &&
    t.getUTCHours() === h &&
    t.getUTCMinutes() === mi &&
    t.getUTCSeconds() === s;
  return exact ? ms : NaN;
}
