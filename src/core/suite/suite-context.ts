import { XFormError, type XFormErrorCode } from '../errors/xform-error.ts';
import { buildSessionInstance } from '../xforms/instances/build-session-instance.ts';
import { resolveInstanceSrc } from '../xforms/instances/resolve-instance-src.ts';
import { InstanceNode, type XPathNode } from '../xforms/tree/instance-node.ts';
import type {
  XPathEnvironment,
  XPathEvalContext,
  XPathFunction,
  XPathValue,
} from '../xforms/xpath/xpath-types.ts';
import type { CommCareApp } from './commcare-app.ts';
import type { InstanceDeclaration } from './suite-model.ts';
import { evaluateText, type SuiteText, type TextEvaluator } from './suite-text.ts';

/** Who is using the app: what `jr://instance/session` shows besides the chosen datums. */
export interface SessionUser {
  deviceid: string;
  appversion: string;
  username: string;
  userid: string;
  /** The restore's `<user_data>` fields. */
  userData?: Record<string, string>;
}

/**
 * What menus, case lists and details are evaluated against. I/O stays with the caller:
 * instances come from `instance(src, id)` (the casedb from the local store, fixtures from
 * the restore), the clock and ids from the environment functions.
 */
export interface SuiteContext {
  /** The document node for an instance `src` (`jr://instance/casedb`, `jr://fixture/x`). */
  instance(src: string, id: string): InstanceNode | undefined;
  /** Datums chosen or computed so far in this session (datum id -> value). */
  sessionData?: Record<string, string>;
  /**
   * When given, `jr://instance/session` is built here from `sessionData` and this user
   * (commcare-core `SessionInstanceBuilder`) instead of being asked of `instance`.
   */
  user?: SessionUser;
  /** Display language (`en`, `default`); the app's default language when absent. */
  lang?: string;
  now?(): Date;
  random?(): number;
  uuid?(): string;
  functions?: ReadonlyMap<string, XPathFunction>;
}

/** An XPath scope: the instances one menu or entry declared, bound to a context. */
export interface SuiteScope {
  app: CommCareApp;
  ctx: SuiteContext;
  env: XPathEnvironment;
  lang: string;
}

/**
 * The evaluation environment for a set of instance declarations. As in commcare-core
 * `CommCareSession.getEvaluationContext`, an expression sees only the instances its
 * menu or entry declares, by the ids declared there (`commcaresession` and `session` are
 * both common names for the session instance). Instances are built on first use.
 */
export function makeScope(
  app: CommCareApp,
  ctx: SuiteContext,
  declarations: readonly InstanceDeclaration[],
): SuiteScope {
  const byId = new Map<string, string>();
  for (const d of declarations) if (!byId.has(d.id)) byId.set(d.id, d.src);
  const cache = new Map<string, InstanceNode | undefined>();
  const env: XPathEnvironment = {
    instance(id: string): InstanceNode | undefined {
      if (cache.has(id)) return cache.get(id);
      const src = byId.get(id);
      let doc: InstanceNode | undefined;
      if (src !== undefined) {
        if (ctx.user && resolveInstanceSrc(src).kind === 'session') {
          doc = buildSessionInstance({
            data: ctx.sessionData ?? {},
            context: {
              deviceid: ctx.user.deviceid,
              appversion: ctx.user.appversion,
              username: ctx.user.username,
              userid: ctx.user.userid,
            },
            user: { data: ctx.user.userData ?? {} },
          });
        } else doc = ctx.instance(src, id);
      }
      cache.set(id, doc);
      return doc;
    },
    now: () => ctx.now?.() ?? new Date(),
    random: () => ctx.random?.() ?? Math.random(),
    uuid: () => ctx.uuid?.() ?? globalThis.crypto.randomUUID(),
    ...(ctx.functions ? { functions: ctx.functions } : {}),
  };
  return { app, ctx, env, lang: ctx.lang ?? app.defaultLanguage };
}

/** The context node for expressions that have none of their own (menu conditions). */
const EMPTY_DOC = InstanceNode.document();

/** The evaluation context for one expression on `node` in this scope. */
function contextFor(
  scope: SuiteScope,
  node: XPathNode,
  variables?: ReadonlyMap<string, XPathValue>,
): XPathEvalContext {
  return { node, position: 1, size: 1, env: scope.env, current: node, ...(variables ? { variables } : {}) };
}

export function evaluate(
  scope: SuiteScope,
  source: string,
  node: XPathNode = EMPTY_DOC,
  variables?: ReadonlyMap<string, XPathValue>,
): XPathValue {
  return scope.app.xpath(source).evaluate(contextFor(scope, node, variables));
}

export function evaluateString(
  scope: SuiteScope,
  source: string,
  node: XPathNode = EMPTY_DOC,
  variables?: ReadonlyMap<string, XPathValue>,
): string {
  return scope.app.xpath(source).evaluateString(contextFor(scope, node, variables));
}

export function evaluateBoolean(scope: SuiteScope, source: string, node: XPathNode = EMPTY_DOC): boolean {
  return scope.app.xpath(source).evaluateBoolean(contextFor(scope, node));
}

export function evaluateNodes(scope: SuiteScope, source: string, node: XPathNode = EMPTY_DOC): XPathNode[] {
  return scope.app.xpath(source).evaluateNodes(contextFor(scope, node));
}

/**
 * A suite text in the scope's language; XPath parts are evaluated with `node` as the
 * context and `variables` (a detail's `<variables>`) visible beside the text's own.
 */
export function displayText(
  scope: SuiteScope,
  text: SuiteText,
  node: XPathNode = EMPTY_DOC,
  variables?: ReadonlyMap<string, XPathValue>,
): string {
  const ev: TextEvaluator = {
    localize: (id) => scope.app.lookupText(id, scope.lang),
    xpath: (expression, own) => {
      const all = new Map<string, XPathValue>(variables ?? []);
      for (const [k, v] of own) all.set(k, v);
      return evaluateString(scope, expression, node, all);
    },
  };
  return evaluateText(text, ev);
}

/** Wraps an evaluation failure with where it happened, keeping the original as cause. */
export function inSuite<T>(what: string, file: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof XFormError && e.file !== undefined) throw e;
    const code: XFormErrorCode = e instanceof XFormError ? (e.code as XFormErrorCode) : 'xpath-eval';
    const why = e instanceof Error ? e.message : String(e);
    throw new XFormError(code, `${file}: ${what}: ${why}`, {
      file,
      cause: e,
      ...(e instanceof XFormError && e.expression !== undefined ? { expression: e.expression } : {}),
    });
  }
}
