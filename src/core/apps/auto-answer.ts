import type { Prng } from '../lib/prng.ts';
import type { QuestionState } from '../xforms/form-session-types.ts';

/**
 * Candidate answers for `--auto`: values of the question's type, tried in turn until
 * one passes the form's own constraint. The form's constraint is opaque XPath, so
 * instead of solving it the generator offers a spread that covers the usual rules HQ
 * app builders write (ranges such as 1-30 or 0-120, `. <= today()`, lengths, digits
 * only), seeded so a run with the same seed picks the same answers.
 */
const MAX_CANDIDATES = 60;

export function autoCandidates(q: QuestionState, rng: Prng, today: Date): string[] {
  const out: string[] = [];
  const add = (v: string): void => {
    if (!out.includes(v)) out.push(v);
  };
  if ((q.kind === 'select1' || q.kind === 'select') && q.choices) {
    const values = shuffle(
      q.choices.map((c) => c.value),
      rng,
    );
    for (const v of values) add(v);
    if (q.kind === 'select' && values.length > 1) add(values.slice(0, 2).join(' '));
    return out;
  }
  if (q.kind === 'trigger') return ['OK'];
  switch (baseType(q.dataType)) {
    case 'int':
    case 'integer':
    case 'long':
    case 'short': {
      add(String(rng.int(1, 9)));
      // Every small count first (ranges like 5 < x < 10 are common), then larger ones.
      for (let n = 0; n <= 30; n++) add(String(n));
      for (const n of [40, 50, 60, 99, 100, 120, 365, 1000, 9999, -1]) add(String(n));
      while (out.length < MAX_CANDIDATES) add(String(rng.int(-10, 10_000)));
      return out;
    }
    case 'decimal':
    case 'double':
    case 'float': {
      add((rng.int(10, 999) / 10).toFixed(1));
      for (const n of ['1.5', '10.5', '2', '0.5', '50', '100', '0', '25.0', '3.2', '70.0']) add(n);
      while (out.length < MAX_CANDIDATES) add((rng.next() * 1000).toFixed(2));
      return out;
    }
    case 'date': {
      // Today first (visit dates), then the past (births, last periods), then the future.
      for (const days of [0, -1, -7, -30, -180, -365, -3650, -365 * 25, -365 * 60, 1, 7, 30, 180])
        add(isoDate(addDays(today, days)));
      while (out.length < MAX_CANDIDATES) add(isoDate(addDays(today, rng.int(-36500, 3650))));
      return out;
    }
    case 'datetime':
      add(today.toISOString());
      return out;
    case 'time':
      for (const t of ['09:00:00.000', '12:30:00.000', '16:45:00.000', '00:00:00.000']) add(t);
      return out;
    case 'geopoint':
      return ['0.0 0.0 0.0 0.0', '12.5 -1.25 100.0 5.0'];
    case 'geotrace':
    case 'geoshape':
      return ['0.0 0.0 0.0 0.0;0.0 0.001 0.0 0.0;0.001 0.001 0.0 0.0;0.0 0.0 0.0 0.0'];
    case 'binary':
      return [];
    default: {
      const word = (q.label || q.ref.slice(q.ref.lastIndexOf('/') + 1)).replace(/\s+/g, ' ').trim();
      add(`${word.slice(0, 40) || 'auto'} ${rng.int(1, 999)}`);
      // Text fields often carry digits-only or length constraints (phone numbers, ids).
      for (const len of [10, 9, 8, 12, 6, 4, 1, 3, 5, 7, 11, 13, 15]) add(digits(len, rng));
      for (const s of ['auto', 'Abc', 'test value', 'x']) add(s);
      return out;
    }
  }
}

function baseType(t: string): string {
  const local = t.slice(t.indexOf(':') + 1);
  return local.toLowerCase();
}

function shuffle<T>(items: T[], rng: Prng): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}

function digits(len: number, rng: Prng): string {
  let s = String(rng.int(1, 9));
  while (s.length < len) s += String(rng.int(0, 9));
  return s;
}

function addDays(d: Date, days: number): Date {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + days);
}

/** Local calendar date, as `today()` on the phone. */
function isoDate(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}
