import type { CommCareApp } from '../suite/commcare-app.ts';
import { menuItems } from '../suite/menu-navigation.ts';
import type { SuiteContext } from '../suite/suite-context.ts';
import { datumValues } from './fill-app-form.ts';

/** A form of the app that can be opened on one case, straight from that case's screen. */
export interface CaseEntry {
  commandId: string;
  /** The menu it is listed under and its text. */
  menuId: string;
  menuText: string;
  /** The entry's text. */
  text: string;
  /** The case-selection datum the case fills. */
  datumId: string;
}

/**
 * The app's forms whose first case selection would offer this case: entries (shown by
 * their menu's display conditions, `menuItems`) whose first datum is a case list and
 * whose nodeset includes the case (commcare-core `EntityDatum`: the phone only offers the
 * cases of that nodeset, so a closed case or one of another type is never a candidate).
 */
export function entriesForCase(
  app: CommCareApp,
  caseId: string,
  ctx: Omit<SuiteContext, 'sessionData'>,
): CaseEntry[] {
  const out: CaseEntry[] = [];
  const seen = new Set<string>();
  const menus: { id: string; text: string }[] = [{ id: 'root', text: '' }];
  for (let i = 0; i < menus.length; i++) {
    const menu = menus[i];
    if (menu === undefined) break;
    let items: ReturnType<typeof menuItems>;
    try {
      items = menuItems(app, menu.id, { ...ctx, sessionData: {} });
    } catch {
      continue; // A menu that cannot be shown offers nothing here; the app screen says why.
    }
    for (const item of items) {
      if (item.kind === 'menu') {
        if (!menus.some((m) => m.id === item.id)) menus.push({ id: item.id, text: item.text });
        continue;
      }
      const entry = item.entry;
      const first = entry.datums[0];
      if (entry.kind !== 'entry' || first?.kind !== 'entity' || seen.has(entry.commandId)) continue;
      if (entry.unsupported.length > 0) continue;
      let offered: string[];
      try {
        offered = datumValues(app, entry, first, { ...ctx, sessionData: {} });
      } catch {
        continue;
      }
      if (!offered.includes(caseId)) continue;
      seen.add(entry.commandId);
      out.push({
        commandId: entry.commandId,
        menuId: menu.id,
        menuText: menu.text,
        text: item.text,
        datumId: first.id,
      });
    }
  }
  return out;
}
