import type { CommCareApp } from '../suite/commcare-app.ts';
import { computeDatum } from '../suite/compute-datum.ts';
import {
  entriesForCommand,
  type MenuItem,
  menuItems,
  menuNeededDatum,
  neededDatums,
  ROOT_MENU_ID,
} from '../suite/menu-navigation.ts';
import type { SuiteContext } from '../suite/suite-context.ts';
import type { EntityDatum, SuiteEntry, UnsupportedFeature } from '../suite/suite-model.ts';

/** Where a worker is in an app: the command chosen last and the datums chosen so far. */
export interface AppNav {
  /** A menu id or an entry's command id; the root menu when absent. */
  command?: string | undefined;
  /** Datum id -> value (case ids, computed ids), in the order they were chosen. */
  data: Record<string, string>;
}

/** What the screen shows next for an `AppNav`. */
export type AppStep =
  | { kind: 'menu'; menuId: string; items: MenuItem[] }
  | { kind: 'select'; entry: SuiteEntry; datum: EntityDatum }
  /** Computed datums evaluated; carry on with this data (kept, so ids stay stable). */
  | { kind: 'compute'; data: Record<string, string> }
  | { kind: 'form'; entry: SuiteEntry }
  | { kind: 'unsupported'; entry: SuiteEntry; features: UnsupportedFeature[] };

/**
 * The phone's session loop (commcare-core `CommCareSession.getNeededData` and
 * `getDataNeededByAllEntries`, formplayer `MenuSessionRunner`): after a menu is chosen,
 * the case list comes first when every form under it needs the same case next; after an
 * entry is chosen, each datum it still needs in order (computed ones evaluated at once,
 * case lists shown); when none is left, the form opens. A menu lists only the entries
 * still consistent with the datums chosen so far.
 */
export function nextStep(app: CommCareApp, nav: AppNav, ctx: Omit<SuiteContext, 'sessionData'>): AppStep {
  const data = nav.data;
  const full: SuiteContext = { ...ctx, sessionData: data };
  const command = nav.command ?? ROOT_MENU_ID;
  const entry = app.entries.get(command);
  if (entry) {
    if (entry.unsupported.length > 0) return { kind: 'unsupported', entry, features: entry.unsupported };
    const next = neededDatums(entry, data)[0];
    if (next === undefined) {
      if (entry.kind !== 'entry') return { kind: 'unsupported', entry, features: [] };
      return { kind: 'form', entry };
    }
    if (next.kind === 'entity') return { kind: 'select', entry, datum: next };
    return { kind: 'compute', data: computeRun(app, entry, data, ctx) };
  }
  if (command !== ROOT_MENU_ID) {
    const needed = menuNeededDatum(app, command, data);
    const first = entriesForCommand(app, command, data)[0];
    if (needed?.kind === 'entity' && first) return { kind: 'select', entry: first, datum: needed };
    if (needed?.kind === 'computed' && first)
      return { kind: 'compute', data: { ...data, [needed.id]: computeDatum(app, first, needed.id, full) } };
  }
  const items = menuItems(app, command, full).filter(
    (i) => i.kind === 'menu' || entriesForCommand(app, i.id, data).length > 0,
  );
  return { kind: 'menu', menuId: command, items };
}

/** Every computed datum from the next one up to the next case list, evaluated in order. */
function computeRun(
  app: CommCareApp,
  entry: SuiteEntry,
  data: Record<string, string>,
  ctx: Omit<SuiteContext, 'sessionData'>,
): Record<string, string> {
  const out = { ...data };
  for (const d of neededDatums(entry, out)) {
    if (d.kind !== 'computed') break;
    out[d.id] = computeDatum(app, entry, d.id, { ...ctx, sessionData: { ...out } });
  }
  return out;
}
