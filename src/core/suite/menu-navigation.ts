import { XFormError } from '../errors/xform-error.ts';
import type { CommCareApp } from './commcare-app.ts';
import {
  displayText,
  evaluateBoolean,
  inSuite,
  makeScope,
  type SuiteContext,
  type SuiteScope,
} from './suite-context.ts';
import type {
  InstanceDeclaration,
  SessionDatum,
  SuiteAssertion,
  SuiteEntry,
  SuiteMenu,
} from './suite-model.ts';

/** One line on a menu screen: a submenu or a command (form entry, view). */
export type MenuItem =
  | { kind: 'menu'; id: string; text: string; badge: string | undefined; menu: SuiteMenu }
  | { kind: 'entry'; id: string; text: string; entry: SuiteEntry };

/** The id of the menu the phone opens on (commcare-core `CommCareSession`: `root`). */
export const ROOT_MENU_ID = 'root';

/** The root screen: its id and its style. */
export function rootMenu(app: CommCareApp): { id: string; style: string | undefined } {
  return { id: ROOT_MENU_ID, style: menuDisplayStyle(app, ROOT_MENU_ID) };
}

/**
 * The instances visible while a menu is on screen: every instance its `<menu>` blocks
 * declare plus those of every entry they list, first declaration winning
 * (commcare-core `CommCareSession.getEvaluationContext(commandId)`, MenuTests
 * `testMenuInstances_WhenMenuHaveSameIds`).
 */
export function menuInstances(app: CommCareApp, menuId: string): InstanceDeclaration[] {
  const out: InstanceDeclaration[] = [];
  const add = (list: readonly InstanceDeclaration[]): void => {
    for (const d of list) if (!out.some((o) => o.id === d.id)) out.push(d);
  };
  for (const m of app.menus) {
    if (m.id !== menuId) continue;
    add(m.instances);
    for (const c of m.commands) add(app.entries.get(c.id)?.instances ?? []);
  }
  return out;
}

function scopeFor(app: CommCareApp, commandId: string, ctx: SuiteContext): SuiteScope {
  const entry = app.entries.get(commandId);
  return makeScope(app, ctx, entry ? entry.instances : menuInstances(app, commandId));
}

/**
 * What a menu shows, in suite order (commcare-core `MenuLoader`): for every `<menu>` with
 * this id that is relevant, its commands whose own condition holds; then every menu whose
 * `root` is this id, once per id, when its condition holds. Views are left out once all
 * their datums are chosen.
 */
export function menuItems(app: CommCareApp, menuId: string, ctx: SuiteContext): MenuItem[] {
  const items: MenuItem[] = [];
  for (const m of app.menus) {
    if (m.id === menuId) {
      if (!menuRelevant(app, m, ctx)) continue;
      const scope = scopeFor(app, m.id, ctx);
      for (const c of m.commands) {
        if (c.relevant !== undefined) {
          const rel = c.relevant;
          if (
            !inSuite(`display condition of command ${c.id} in menu ${m.id}`, m.file, () =>
              evaluateBoolean(scope, rel),
            )
          )
            continue;
        }
        const entry = app.entries.get(c.id);
        if (!entry) continue;
        if (entry.kind === 'view' && neededDatums(entry, ctx.sessionData).length === 0) continue;
        const escope = makeScope(app, ctx, entry.instances);
        const text = inSuite(`text of command ${c.id}`, entry.file, () =>
          displayText(escope, entry.display.text),
        );
        items.push({ kind: 'entry', id: c.id, text, entry });
      }
    } else if (m.root === menuId) {
      if (items.some((i) => i.kind === 'menu' && i.id === m.id)) continue;
      if (!menuRelevant(app, m, ctx)) continue;
      const scope = scopeFor(app, m.id, ctx);
      const text = inSuite(`text of menu ${m.id}`, m.file, () => displayText(scope, m.display.text));
      const badgeText = m.display.badge;
      const badge =
        badgeText === undefined
          ? undefined
          : inSuite(`badge of menu ${m.id}`, m.file, () => displayText(scope, badgeText));
      items.push({ kind: 'menu', id: m.id, text, badge, menu: m });
    }
  }
  return items;
}

/** Whether a `<menu>` block's display condition holds (no condition: shown). */
export function menuRelevant(app: CommCareApp, menu: SuiteMenu, ctx: SuiteContext): boolean {
  const rel = menu.relevant;
  if (rel === undefined) return true;
  const scope = scopeFor(app, menu.id, ctx);
  return inSuite(`display condition of menu ${menu.id}`, menu.file, () => evaluateBoolean(scope, rel));
}

/**
 * A menu's style when all `<menu>` blocks with that id agree or only one sets it;
 * `undefined` when they disagree or none sets it (commcare-core
 * `CommCarePlatform.getMenuDisplayStyle`, AppStructureTests `testMenuStyles`).
 */
export function menuDisplayStyle(app: CommCareApp, menuId: string): string | undefined {
  let style: string | undefined;
  for (const m of app.menus) {
    if (m.id !== menuId || m.style === undefined) continue;
    if (style === undefined) style = m.style;
    else if (style !== m.style) return undefined;
  }
  return style;
}

/** A menu's or entry's title in the context's language. */
export function menuText(app: CommCareApp, menuId: string, ctx: SuiteContext): string {
  const m = app.menus.find((x) => x.id === menuId);
  if (!m) throw new XFormError('form-not-found', `The app has no menu ${menuId}`, { ref: menuId });
  return inSuite(`text of menu ${menuId}`, m.file, () =>
    displayText(scopeFor(app, menuId, ctx), m.display.text),
  );
}

/**
 * The message of the first assertion that fails, or undefined when all hold
 * (commcare-core `AssertionSet.getAssertionFailure`).
 */
export function assertionFailure(
  assertions: readonly SuiteAssertion[],
  scope: SuiteScope,
  file: string,
): string | undefined {
  for (const a of assertions) {
    if (!inSuite(`assertion ${a.test}`, file, () => evaluateBoolean(scope, a.test))) {
      return inSuite(`assertion message`, file, () => displayText(scope, a.text));
    }
  }
  return undefined;
}

/** The first failing assertion of any `<menu>` block with this id. */
export function menuAssertionFailure(
  app: CommCareApp,
  menuId: string,
  ctx: SuiteContext,
): string | undefined {
  const scope = scopeFor(app, menuId, ctx);
  for (const m of app.menus) {
    if (m.id !== menuId) continue;
    const msg = assertionFailure(m.assertions, scope, m.file);
    if (msg !== undefined) return msg;
  }
  return undefined;
}

/** The first failing assertion of an entry (checked once its datums are chosen). */
export function entryAssertionFailure(
  app: CommCareApp,
  entry: SuiteEntry,
  ctx: SuiteContext,
): string | undefined {
  return assertionFailure(entry.assertions, makeScope(app, ctx, entry.instances), entry.file);
}

/**
 * An entry by command id (`m2-f0`), by form xmlns, or by `Menu text/Form text` in the
 * `default` language (what a QA script names); `form-not-found` when none matches.
 */
export function findEntry(app: CommCareApp, key: string): SuiteEntry {
  const byId = app.entries.get(key);
  if (byId) return byId;
  for (const e of app.entries.values()) if (e.formXmlns === key) return e;
  // Menu and form names may themselves hold a '/': try every split point.
  const ctx: SuiteContext = { instance: () => undefined, lang: 'default' };
  const scope = makeScope(app, ctx, []);
  for (let slash = key.indexOf('/'); slash > 0; slash = key.indexOf('/', slash + 1)) {
    const menuName = key.slice(0, slash).trim();
    const formName = key.slice(slash + 1).trim();
    for (const m of app.menus) {
      if (safeText(() => displayText(scope, m.display.text)) !== menuName) continue;
      for (const c of m.commands) {
        const e = app.entries.get(c.id);
        if (e && safeText(() => displayText(scope, e.display.text)) === formName) return e;
      }
    }
  }
  throw new XFormError(
    'form-not-found',
    `The app has no entry "${key}" (not a command id, form xmlns or Menu/Form name)`,
    {
      ref: key,
    },
  );
}

/** Texts that need instances cannot name an entry; treat them as not matching. */
function safeText(fn: () => string): string | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/**
 * The datums an entry still needs, in order: those not yet in the session data
 * (commcare-core `CommCareSession.getNeededData` walks them the same way: the first
 * missing one decides what the phone asks for next).
 */
export function neededDatums(entry: SuiteEntry, sessionData: Record<string, string> = {}): SessionDatum[] {
  return entry.datums.filter((d) => !Object.hasOwn(sessionData, d.id));
}

/**
 * The entries a command id stands for while `sessionData` is chosen: the entry itself, or
 * every entry a menu with that id lists, keeping those whose datums start with the datums
 * chosen so far, in the same order (commcare-core `CommCareSession.getEntriesForCommand`
 * and its consistency check).
 */
export function entriesForCommand(
  app: CommCareApp,
  commandId: string,
  sessionData: Record<string, string> = {},
): SuiteEntry[] {
  const direct = app.entries.get(commandId);
  const all: SuiteEntry[] = [];
  if (direct) all.push(direct);
  else {
    for (const m of app.menus) {
      if (m.id !== commandId) continue;
      for (const c of m.commands) {
        const e = app.entries.get(c.id);
        if (e && !all.includes(e)) all.push(e);
      }
    }
  }
  const chosen = Object.keys(sessionData);
  return all.filter((e) => {
    if (e.datums.length < chosen.length) return true;
    return chosen.every((id, i) => e.datums[i]?.id === id);
  });
}

/**
 * The datum to ask for right after choosing a menu, before a form is picked: the next
 * datum when every entry under the menu needs the same one next (commcare-core
 * `CommCareSession.getDataNeededByAllEntries`). This is how an HQ follow-up module opens
 * on its case list and a form list comes after the case; undefined means "pick a
 * command first" (or, for an entry, that nothing more is needed).
 */
export function menuNeededDatum(
  app: CommCareApp,
  commandId: string,
  sessionData: Record<string, string> = {},
): SessionDatum | undefined {
  const entries = entriesForCommand(app, commandId, sessionData);
  let needed: SessionDatum | undefined;
  for (const e of entries) {
    const next = neededDatums(e, sessionData)[0];
    if (next === undefined) return undefined;
    if (needed === undefined) needed = next;
    else if (needed.id !== next.id) return undefined;
  }
  return needed;
}
