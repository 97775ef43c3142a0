import { XFormError } from '../../errors/xform-error.ts';
import type { XPathNode } from '../tree/instance-node.ts';
import type { XPathExpr } from './xpath-ast.ts';
import { Evaluator } from './xpath-evaluator.ts';
import { BUILTIN_FUNCTIONS } from './xpath-functions.ts';
import { parseXPath } from './xpath-parser.ts';
import { collectReferences } from './xpath-references.ts';
import type { CompiledXPath, XPathEvalContext, XPathReference, XPathValue } from './xpath-types.ts';
import { toXPathBoolean, toXPathNumber, toXPathString } from './xpath-values.ts';

/**
 * fieldsim's XPath 1.0 engine with the JavaRosa/CommCare function set.
 *
 * Why our own engine: measured on real CommCare forms (shared/notes/xform-engines.md),
 * @getodk/xforms-engine needs jsdom in Node, cannot load raw CommCare forms and drops
 * namespaces HQ needs; openrosa-xpath-evaluator hands paths to a DOM XPathEvaluator (a
 * DOM per worker, which 1,000 runner workers cannot afford); fontoxpath is XPath 3.1
 * (`if(a,b,c)` does not parse, empty values in arithmetic throw). So, as JavaRosa, Enketo
 * and ODK each do, fieldsim evaluates XPath itself over its own instance tree
 * (`InstanceNode`): a tokenizer, a recursive-descent parser to a small AST, compiled once
 * per source string and cached, and a tree-walking evaluator.
 *
 * Rules that differ from plain XPath 1.0, each following commcare-core:
 * - Name tests match the local name and ignore the prefix, so `/data/meta/instanceID`
 *   finds `<orx:instanceID>` and `orx:meta` finds `<meta>` in any namespace. CommCare
 *   forms put the primary instance in a default namespace and meta in `orx:`; XPath in
 *   those forms is written without the default namespace, and JavaRosa's TreeReference
 *   matching works on names the same way.
 * - Absolute paths start at the form's primary instance (`env.root`), also inside
 *   `instance('casedb')/...[...]` predicates (JavaRosa resolves `/data/x` against the
 *   main instance wherever it appears).
 * - Empty node-sets compare and convert as `''`; see xpath-values.ts for the rest.
 * - `=`/`!=`: booleans win, then numbers (within 1e-12), else strings (XPathEqExpr).
 *
 * Errors: `xpath-syntax` (with the position) and `xpath-syntax` for a wrong argument count
 * of a built-in, at compile time; `xpath-unsupported` when an unknown function is called
 * (compile records the names: `unknownFunctions()` lets a loader fail early);
 * `instance-missing` for `instance('x')` with no such instance; `xpath-eval` for runtime
 * failures (bad regex, node-set expected, invalid date).
 */

const cache = new Map<string, CompiledXPathImpl>();
const CACHE_LIMIT = 20_000;

export function compileXPath(source: string): CompiledXPath {
  const hit = cache.get(source);
  if (hit !== undefined) return hit;
  const compiled = new CompiledXPathImpl(source, parseXPath(source));
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(source, compiled);
  return compiled;
}

/**
 * The functions an expression calls that neither the built-in table nor `extra` (the
 * host's `env.functions` names) provides, sorted: a form loader reports them up front.
 */
export function unknownFunctions(compiled: CompiledXPath, extra?: ReadonlySet<string>): string[] {
  const impl =
    compiled instanceof CompiledXPathImpl ? compiled : (compileXPath(compiled.source) as CompiledXPathImpl);
  const names = impl.functionNames;
  return [...names].filter((n) => !BUILTIN_FUNCTIONS.has(n) && !(extra?.has(n) ?? false)).sort();
}

/**
 * `compiled.references()` without the defensive copy, for callers that only read them
 * (the model's dependency graph asks for every bind's references at each load).
 */
export function readReferences(compiled: CompiledXPath): readonly XPathReference[] {
  return compiled instanceof CompiledXPathImpl ? compiled.sharedReferences() : compiled.references();
}

/** Built-ins whose value is not fixed by what the expression reads. */
const VOLATILE = new Set(['now', 'today', 'random', 'uuid', 'once']);

/**
 * Whether an expression may give a new value without any node it reads changing: it calls
 * the clock, randomness, or a function that is not a built-in (a host's function).
 */
export function mayChangeUnprompted(compiled: CompiledXPath): boolean {
  const impl =
    compiled instanceof CompiledXPathImpl ? compiled : (compileXPath(compiled.source) as CompiledXPathImpl);
  for (const n of impl.functionNames) if (VOLATILE.has(n) || !BUILTIN_FUNCTIONS.has(n)) return true;
  return false;
}

class CompiledXPathImpl implements CompiledXPath {
  readonly functionNames: ReadonlySet<string>;
  private readonly evaluator: Evaluator;
  private refs: XPathReference[] | undefined;

  readonly source: string;
  readonly ast: XPathExpr;

  constructor(source: string, ast: XPathExpr) {
    this.source = source;
    this.ast = ast;
    const names = new Set<string>();
    checkCalls(ast, source, names);
    this.functionNames = names;
    this.evaluator = new Evaluator(source);
  }

  evaluate(ctx: XPathEvalContext): XPathValue {
    // `current()` defaults to ctx.node where it is read, so no copy of ctx is needed here.
    try {
      return this.evaluator.evaluate(this.ast, ctx);
    } catch (err) {
      if (err instanceof XFormError) throw err;
      throw new XFormError(
        'xpath-eval',
        `XPath "${this.source}" failed: ${err instanceof Error ? err.message : String(err)}`,
        {
          expression: this.source,
          cause: err,
        },
      );
    }
  }

  evaluateString(ctx: XPathEvalContext): string {
    return toXPathString(this.evaluate(ctx));
  }

  evaluateNumber(ctx: XPathEvalContext): number {
    return toXPathNumber(this.evaluate(ctx));
  }

  evaluateBoolean(ctx: XPathEvalContext): boolean {
    return toXPathBoolean(this.evaluate(ctx));
  }

  evaluateNodes(ctx: XPathEvalContext): XPathNode[] {
    return this.evaluator.nodes(this.evaluate(ctx), 'expression');
  }

  references(): XPathReference[] {
    return this.sharedReferences().map((r) => ({ ...r, steps: [...r.steps] }));
  }

  sharedReferences(): readonly XPathReference[] {
    this.refs ??= collectReferences(this.ast);
    return this.refs;
  }
}

/** Records called names and checks built-in arities (JavaRosa fails these at parse time). */
function checkCalls(e: XPathExpr, source: string, names: Set<string>): void {
  switch (e.type) {
    case 'call': {
      names.add(e.name);
      const b = BUILTIN_FUNCTIONS.get(e.name);
      if (b !== undefined && (e.args.length < b.min || e.args.length > b.max)) {
        const want =
          b.min === b.max
            ? `${b.min}`
            : b.max === Number.POSITIVE_INFINITY
              ? `at least ${b.min}`
              : `${b.min} to ${b.max}`;
        throw new XFormError(
          'xpath-syntax',
          `${e.name}() takes ${want} argument${want === '1' ? '' : 's'}, not ${e.args.length}, in XPath "${source}"`,
          { expression: source },
        );
      }
      for (const a of e.args) checkCalls(a, source, names);
      return;
    }
    case 'negate':
      checkCalls(e.operand, source, names);
      return;
    case 'binary':
      checkCalls(e.left, source, names);
      checkCalls(e.right, source, names);
      return;
    case 'filter':
      checkCalls(e.base, source, names);
      for (const p of e.predicates) checkCalls(p, source, names);
      return;
    case 'path':
      if (e.base !== null) checkCalls(e.base, source, names);
      for (const s of e.steps) for (const p of s.predicates) checkCalls(p, source, names);
      return;
    default:
      return;
  }
}
