import type { Prng } from '../../core/lib/prng.ts';

/**
 * Placeholders in scenario strings, `{{...}}`, evaluated per worker and per use:
 *
 *   {{worker}}        the worker's number, 1-based and global across shards
 *   {{user}}          the worker's short username
 *   {{i}}             the innermost `repeat` iteration, 1-based (only inside a repeat)
 *   {{pick a b "c d"}} one of the words (double quotes keep spaces), from the worker's PRNG
 *   {{int 1 10}}      an integer in [1, 10], from the worker's PRNG
 *   {{shard}}         this shard's number (1 when not sharded)
 *   {{today}}         today's date, YYYY-MM-DD (for Date answers; not seed-reproducible)
 *
 * Templates are compiled when the scenario is read, so an unknown placeholder or a
 * misplaced `{{i}}` is a scenario error before anything runs.
 */

export interface TemplateContext {
  worker: number;
  user: string;
  shard: number;
  /** Repeat counters, outermost first. */
  iterations: readonly number[];
  rng: Prng;
  today: () => string;
}

type Part =
  | { kind: 'text'; text: string }
  | { kind: 'worker' | 'user' | 'i' | 'shard' | 'today' }
  | { kind: 'pick'; choices: string[] }
  | { kind: 'int'; min: number; max: number };

export interface Template {
  readonly source: string;
  /** True when the template draws random numbers (so its value differs between uses). */
  readonly random: boolean;
  render(ctx: TemplateContext): string;
}

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

function words(s: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) out.push(m[1] ?? m[2] ?? '');
  return out;
}

function parseExpr(expr: string, inRepeat: boolean): Part {
  const [head, ...args] = words(expr.trim());
  switch (head) {
    case 'worker':
    case 'user':
    case 'shard':
    case 'today':
      if (args.length > 0) throw new TemplateError(`{{${head}}} takes no arguments`);
      return { kind: head };
    case 'i':
      if (args.length > 0) throw new TemplateError('{{i}} takes no arguments');
      if (!inRepeat) throw new TemplateError('{{i}} is only defined inside a repeat');
      return { kind: 'i' };
    case 'pick':
      if (args.length === 0) throw new TemplateError('{{pick}} needs at least one choice');
      return { kind: 'pick', choices: args };
    case 'int': {
      const [a, b] = args.map(Number);
      if (args.length !== 2 || !Number.isInteger(a) || !Number.isInteger(b) || (a as number) > (b as number))
        throw new TemplateError('{{int MIN MAX}} needs two integers, MIN <= MAX');
      return { kind: 'int', min: a as number, max: b as number };
    }
    default:
      throw new TemplateError(
        `unknown placeholder {{${expr.trim()}}} (known: worker, user, i, pick, int, shard, today)`,
      );
  }
}

export function compileTemplate(source: string, opts: { inRepeat: boolean }): Template {
  const parts: Part[] = [];
  let at = 0;
  while (at < source.length) {
    const open = source.indexOf('{{', at);
    if (open < 0) {
      parts.push({ kind: 'text', text: source.slice(at) });
      break;
    }
    const close = source.indexOf('}}', open + 2);
    if (close < 0) throw new TemplateError(`unclosed {{ in ${JSON.stringify(source)}`);
    if (open > at) parts.push({ kind: 'text', text: source.slice(at, open) });
    parts.push(parseExpr(source.slice(open + 2, close), opts.inRepeat));
    at = close + 2;
  }
  const random = parts.some((p) => p.kind === 'pick' || p.kind === 'int');
  if (parts.every((p) => p.kind === 'text')) {
    const text = parts.map((p) => (p.kind === 'text' ? p.text : '')).join('');
    return { source, random, render: () => text };
  }
  return {
    source,
    random,
    render(ctx) {
      let out = '';
      for (const p of parts) {
        switch (p.kind) {
          case 'text':
            out += p.text;
            break;
          case 'worker':
            out += String(ctx.worker);
            break;
          case 'user':
            out += ctx.user;
            break;
          case 'shard':
            out += String(ctx.shard);
            break;
          case 'today':
            out += ctx.today();
            break;
          case 'i':
            out += String(ctx.iterations[ctx.iterations.length - 1] ?? 0);
            break;
          case 'pick':
            out += ctx.rng.pick(p.choices);
            break;
          case 'int':
            out += String(ctx.rng.int(p.min, p.max));
            break;
        }
      }
      return out;
    },
  };
}
