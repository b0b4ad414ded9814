/**
 * Date values of the `Date…` operators: W3C profiles of ISO 8601 (`2024`, `2024-05`,
 * `2024-05-01`, `2024-05-01T10:00Z`, `2024-05-01T10:00:00.5+02:00`) or epoch seconds.
 */

const ISO =
  /^(-?\d{4,9})(?:-(\d{2})(?:-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?)?)?$/;

/** Milliseconds since the epoch for a policy or context date, or undefined when not a date. */
export function parseDate(value: string): number | undefined {
  if (/^-?\d+(\.\d+)?$/.test(value)) {
    // Digits alone are epoch (Unix) seconds, as IAM's parser reads them (even `2024`).
    return Number(value) * 1000;
  }
  const m = ISO.exec(value);
  if (m === null) return undefined;
  const year = Number(m[1]);
  const month = m[2] === undefined ? 1 : Number(m[2]);
  const day = m[3] === undefined ? 1 : Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const millis = m[7] === undefined ? 0 : Number(`0.${m[7]}`) * 1000;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return undefined;
  }
  let t = Date.UTC(year, month - 1, day, hour, minute, second) + millis;
  if (year >= 0 && year < 100) {
    // Date.UTC maps years 0–99 to 1900–1999.
    const d = new Date(t);
    d.setUTCFullYear(year);
    t = d.getTime();
  }
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offset = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0');
    t -= sign * offset * 60_000;
  }
  return Number.isFinite(t) ? t : undefined;
}

/**
 * IAM's "legacy parser" check of a `Date…` condition value: ISO-looking values must have a year,
 * month, day and time in range; anything else must be epoch seconds within a signed 64-bit range.
 * A failure is reported as "The policy failed legacy parsing".
 */
export function passesLegacyDateParse(raw: string): boolean {
  const value = raw.toLowerCase();
  if (value.includes('t') || value.includes('-')) return legacyIso(value);
  if (!/^\d+$/.test(value)) return false;
  return BigInt(value) <= 9223372036854775807n;
}

function legacyInt(s: string | undefined): number | undefined {
  if (s === undefined || !/^[+-]?\d+$/.test(s.trim())) return undefined;
  return Number(s);
}

function inRange(s: string | undefined, lo: number, hi: number): boolean {
  const n = legacyInt(s);
  return n !== undefined && n >= lo && n <= hi;
}

function legacyIso(value: string): boolean {
  const t = value.indexOf('t');
  const datePart = t < 0 ? value : value.slice(0, t);
  const timePart = t < 0 ? '' : value.slice(t + 1);
  const negative = datePart.startsWith('-');
  const dateFields = (negative ? datePart.slice(1) : datePart).split('-');
  if (dateFields.length > 3) return false;
  const year = negative ? `-${dateFields[0] ?? ''}` : dateFields[0];
  if (!inRange(year, -292275054, 292278993)) return false;
  if (dateFields.length > 1 && !inRange(dateFields[1], 1, 12)) return false;
  if (dateFields.length > 2 && !inRange(dateFields[2], 1, 31)) return false;
  const time = timePart.split(':');
  if (time[0] !== '' && time[0] !== undefined && !inRange(time[0], 0, 23)) return false;
  if (time.length > 1 && !inRange(time[1], 0, 59)) return false;
  if (time.length > 2) {
    let seconds = time[2] as string;
    if (seconds.includes('z')) {
      const [s, after] = seconds.split('z', 2);
      if (after !== '') return false;
      seconds = s ?? '';
    } else if (seconds.includes('+')) {
      const plus = seconds.indexOf('+');
      const zoneHours = seconds.slice(plus + 1);
      seconds = seconds.slice(0, plus);
      if (zoneHours.length !== 2 || !inRange(zoneHours, 0, 23)) return false;
      const zoneMinutes = time[3];
      if (zoneMinutes !== undefined && (zoneMinutes.length !== 2 || !inRange(zoneMinutes, 0, 59))) {
        return false;
      }
    }
    const [whole, fraction] = seconds.split('.', 2);
    if (!inRange(whole, 0, 59)) return false;
    if (fraction !== undefined && !inRange(fraction, 0, 999999999)) return false;
  }
  return true;
}
