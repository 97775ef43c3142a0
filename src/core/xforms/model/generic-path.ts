import type { DepRef } from '../form-def.ts';
import type { XPathReference } from '../xpath/xpath-types.ts';

/**
 * Generic paths name instance nodes without positions: `/data/rep/q`, `/data/case/@case_id`.
 * Names are local names: JavaRosa matches `/data/meta/instanceID` against
 * `<orx:meta><orx:instanceID>` (TreeElement keeps the local name and the namespace apart).
 */

/** The local part of a written name (`orx:meta` -> `meta`, `@jr:x` -> `@x`). */
export function localStep(step: string): string {
  const at = step.startsWith('@');
  const bare = at ? step.slice(1) : step;
  const colon = bare.indexOf(':');
  const local = colon >= 0 ? bare.slice(colon + 1) : bare;
  return at ? `@${local}` : local;
}

export function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

export function joinPath(steps: readonly string[]): string {
  return `/${steps.join('/')}`;
}

export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** True when `path` is `ancestor` or lies below it. */
export function isAtOrUnder(path: string, ancestor: string): boolean {
  if (ancestor === '/') return true;
  return path === ancestor || path.startsWith(`${ancestor}/`);
}

/**
 * Strips predicates from a path expression as written in a `nodeset`/`ref` and resolves it
 * against a context path, giving a generic path; undefined when the expression is not a
 * plain location path (a bind or control ref must be one).
 */
export function resolveRefPath(ref: string, contextPath: string): string | undefined {
  const text = stripPredicates(ref.trim());
  if (text === '' || /[()|=<>!+,]|\s/.test(text)) return undefined;
  const abs = text.startsWith('/');
  const steps = abs ? [] : splitPath(contextPath);
  for (const raw of text.split('/')) {
    if (raw === '' || raw === '.') continue;
    if (raw === '..') {
      steps.pop();
      continue;
    }
    steps.push(localStep(raw));
  }
  return joinPath(steps);
}

function stripPredicates(s: string): string {
  let out = '';
  let depth = 0;
  let quote = '';
  for (const ch of s) {
    if (quote) {
      if (ch === quote) quote = '';
      continue;
    }
    if (depth > 0 && (ch === '"' || ch === "'")) {
      quote = ch;
      continue;
    }
    if (ch === '[') depth++;
    else if (ch === ']') depth--;
    else if (depth === 0) out += ch;
  }
  return out;
}

/**
 * Resolves an expression's reference against the node it is evaluated for, as JavaRosa
 * contextualizes a relative XPathPathExpr against the bind's nodeset. References into
 * other instances return undefined (they are not part of the form's dependency graph:
 * casedb, session and fixtures do not change while the form is filled in).
 */
export function resolveDependency(ref: XPathReference, contextPath: string): DepRef | undefined {
  if (ref.instance !== null) return undefined;
  const steps = ref.absolute ? [] : splitPath(contextPath);
  for (const raw of ref.steps) {
    if (raw === '.' || raw === '') continue;
    if (raw === '..') {
      steps.pop();
      continue;
    }
    if (raw === '*' || raw === '@*' || raw.includes('::') || raw === '//' || raw.includes('(')) {
      return { path: joinPath(steps), prefix: true };
    }
    steps.push(localStep(raw));
  }
  return { path: joinPath(steps), prefix: false };
}
