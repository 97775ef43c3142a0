import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { caseList, caseListActions } from '../../../src/core/suite/case-list.ts';
import { computeDatum } from '../../../src/core/suite/compute-datum.ts';
import { loadApp } from '../../../src/core/suite/load-app.ts';
import {
  entriesForCommand,
  findEntry,
  menuItems,
  menuNeededDatum,
  neededDatums,
} from '../../../src/core/suite/menu-navigation.ts';
import {
  appFilesFromFolder,
  CORE_SAMPLES,
  contextFor,
  FIXTURE_APPS,
  readRestore,
  sampleApp,
} from './sample-apps.ts';

/** commcare-core's session apps, checked where their tests look before any stack runs. */
describe('complex_stack (SessionStackTests)', async () => {
  const app = await loadApp(sampleApp('complex_stack'));
  const data = await readRestore(join(CORE_SAMPLES, 'complex_stack/user_restore.xml'));
  const ctx = contextFor(data);

  it('m0 needs a computed datum first, then a case', () => {
    const entry = findEntry(app, 'm0-f0');
    const [first, second] = neededDatums(entry);
    expect(first).toMatchObject({ kind: 'computed', id: 'calculated_data' });
    expect(computeDatum(app, entry, 'calculated_data', ctx)).toBe('initial');
    expect(second).toMatchObject({ kind: 'entity', id: 'case_id', detailSelect: 'm0_case_short' });
    expect(neededDatums(entry, { calculated_data: 'initial' }).map((d) => d.id)).toEqual(['case_id']);
  });

  it('root lists the four menus, then root-level commands, views included while they need a case', () => {
    expect(menuItems(app, 'root', ctx).map((i) => `${i.kind}:${i.id}`)).toEqual([
      'menu:m0',
      'menu:m1',
      'menu:m2',
      'menu:test-actions',
      'entry:m3-f0',
      'entry:m4-f0',
      'entry:m5-f0',
    ]);
    expect(findEntry(app, 'm4-f0').kind).toBe('view');
    const chosen = { ...ctx, sessionData: { case_id_to_view: 'x' } };
    expect(menuItems(app, 'root', chosen).map((i) => i.id)).not.toContain('m4-f0');
  });

  it('case list actions keep only the relevant ones', () => {
    const entry = findEntry(app, 'test-actions-entry');
    const actions = caseListActions(app, entry, 'case_id', ctx);
    expect(actions.length).toBe(2);
    expect(actions.map((a) => a.autoLaunch)).toEqual([true, false]);
  });
});

describe('case_title_form_loading (StackFrameStepTests stepBackFromStackPush)', async () => {
  const app = await loadApp(sampleApp('case_title_form_loading'));
  const data = await readRestore(join(CORE_SAMPLES, 'case_title_form_loading/user_restore.xml'));
  const ctx = contextFor(data);

  it('the m0 case list has its two registration actions', () => {
    const actions = caseListActions(app, findEntry(app, 'm0-f0'), 'case_id', ctx);
    expect(actions.map((a) => a.text)).toEqual(['register', 'register']);
  });

  it('lists the open adults, with the detail title from the app strings', () => {
    const list = caseList(app, findEntry(app, 'm0-f0'), 'case_id', ctx);
    expect(list.title).toBe('Cases');
    expect(list.rows.length).toBe(data.cases.filter((c) => c.caseType === 'adult' && !c.closed).length);
    expect(list.rows.length).toBeGreaterThan(0);
  });

  it('computes the user case id to empty when the restore has no user case', () => {
    // The restore carries no commcare-user case, so `...[1]/@case_id` selects nothing.
    expect(data.cases.some((c) => c.caseType === 'commcare-user')).toBe(false);
    expect(computeDatum(app, findEntry(app, 'm3-f0'), 'usercase_id', ctx)).toBe('');
    expect(
      computeDatum(app, findEntry(app, 'm3-f0'), 'case_id_new_adult_0', { ...ctx, uuid: () => 'u-1' }),
    ).toBe('u-1');
  });
});

describe('empty_app_elements (EmptyAppElementsTests)', async () => {
  const app = await loadApp(sampleApp('empty_app_elements'));
  it('has one menu at the root', () => {
    expect(menuItems(app, 'root', { instance: () => undefined }).length).toBe(1);
  });
});

describe('datums needed by every entry of a menu (CommCareSession.getDataNeededByAllEntries)', async () => {
  const app = await loadApp(sampleApp('complex_stack'));

  it('after choosing m0: the computed datum, then the case (SessionStackTests)', () => {
    expect(menuNeededDatum(app, 'm0')).toMatchObject({ kind: 'computed', id: 'calculated_data' });
    expect(menuNeededDatum(app, 'm0', { calculated_data: 'initial' })).toMatchObject({
      kind: 'entity',
      id: 'case_id',
    });
    expect(menuNeededDatum(app, 'm0', { calculated_data: 'initial', case_id: 'c' })).toBeUndefined();
  });

  it('root: its commands need different datums, so a command comes first', () => {
    expect(menuNeededDatum(app, 'root')).toBeUndefined();
  });

  it('drops entries whose datums do not start with the chosen ones', () => {
    expect(entriesForCommand(app, 'root').map((e) => e.commandId)).toEqual(['m3-f0', 'm4-f0', 'm5-f0']);
    expect(entriesForCommand(app, 'root', { case_id_to_view: 'x' }).map((e) => e.commandId)).toEqual([
      'm4-f0',
      'm5-f0',
    ]);
  });

  it('an HQ follow-up module opens on its case list; a registration module on the form', async () => {
    const hh = await loadApp(appFilesFromFolder(join(FIXTURE_APPS, 'household')));
    expect(menuNeededDatum(hh, 'm1')).toMatchObject({ kind: 'entity', id: 'case_id' });
    expect(menuNeededDatum(hh, 'm0')).toMatchObject({ kind: 'computed', id: 'case_id_new_household_0' });
  });
});
