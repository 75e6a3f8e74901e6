/**
 * A sitemap `<lastmod>` (W3C Datetime, https://www.w3.org/TR/NOTE-datetime) as epoch milliseconds, for
 * `--newer-than` comparisons; null for anything else. Accepted: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, and
 * `YYYY-MM-DDThh:mm[:ss[.s+]]TZD` with TZD `Z`, `+hh:mm` or `-hh:mm`. A date alone means its first instant in UTC.
 * One tolerance: a time with no TZD (common in the wild, e.g. `2024-05-01T10:00:00`) is read as UTC, at most
 * 14 hours off, rather than dropped. Every field is range-checked (no 31 April, no hour 24), surrounding whitespace
 * is ignored.
 */
export function parseLastmod(value: string): number | null {
  const match = LASTMOD.exec(value.trim());
  if (!match) return null;
  const [, y, mo, d, h, mi, s, frac, zone, zh, zm] = match;
  const year = Number(y);
  const month = mo === undefined ? 1 : Number(mo);
  const day = d === undefined ? 1 : Number(d);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
  const hour = h === undefined ? 0 : Number(h);
  const minute = mi === undefined ? 0 : Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (hour > 23 || minute > 59 || second > 59) return null;
  let offsetMinutes = 0;
  if (zone !== undefined && zone !== 'Z') {
    const zoneHours = Number(zh);
    const zoneMinutes = Number(zm);
    if (zoneHours > 23 || zoneMinutes > 59) return null;
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (zoneHours * 60 + zoneMinutes);
  }
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1000));
  return date.getTime() - offsetMinutes * 60_000;
}

// YYYY[-MM[-DD[Thh:mm[:ss[.s+]][TZD]]]]
const LASTMOD = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-](\d{2}):(\d{2}))?)?)?)?$/;

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
