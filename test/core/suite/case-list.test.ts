import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FieldsimError } from '../../../src/core/errors/fieldsim-error.ts';
import { XFormError } from '../../../src/core/errors/xform-error.ts';
import { appFilesFromMap } from '../../../src/core/suite/app-files.ts';
import { caseDetail, caseList, compareSortValues } from '../../../src/core/suite/case-list.ts';
import { computeDatum } from '../../../src/core/suite/compute-datum.ts';
import { loadApp } from '../../../src/core/suite/load-app.ts';
import { entryAssertionFailure, findEntry, menuItems } from '../../../src/core/suite/menu-navigation.ts';
import {
  appFilesFromFolder,
  CORE_SAMPLES,
  contextFor,
  FIXTURE_APPS,
  readRestore,
  sampleApp,
} from './sample-apps.ts';

describe('the household fixture app (HQ app-builder shape)', async () => {
  const dir = join(FIXTURE_APPS, 'household');
  const app = await loadApp(appFilesFromFolder(dir));
  const data = await readRestore(join(dir, 'restore.xml'));
  const ctx = contextFor(data);
  const visit = findEntry(app, 'Visits/Visit');

  it('installs with its languages, default language and both forms', () => {
    expect(app.name).toBe('Household visits');
    expect(app.profileProperties.get('cc-app-version')).toBe('7');
    expect(app.languages).toEqual(['en', 'fra', 'default']);
    expect(app.defaultLanguage).toBe('en');
    expect([...app.forms.keys()]).toEqual([
      'http://openrosa.org/formdesigner/FIELDSIM-HH-REGISTER',
      'http://openrosa.org/formdesigner/FIELDSIM-HH-VISIT',
    ]);
  });

  it('shows both modules at the root, in the chosen language', () => {
    expect(menuItems(app, 'root', ctx).map((i) => i.text)).toEqual(['Households', 'Visits']);
    expect(menuItems(app, 'root', { ...ctx, lang: 'fra' }).map((i) => i.text)).toEqual([
      'Ménages',
      'Visites',
    ]);
  });

  it('hides the visit form when the user data condition fails', () => {
    expect(menuItems(app, 'm1', ctx).map((i) => i.id)).toEqual(['m1-f0']);
    const noRight = { ...ctx, user: { ...(ctx.user ?? never()), userData: { can_visit: 'no' } } };
    expect(menuItems(app, 'm1', noRight)).toEqual([]);
  });

  it('finds entries by Menu/Form name, command id and xmlns alike', () => {
    expect(visit.commandId).toBe('m1-f0');
    expect(findEntry(app, 'Households/Register household').commandId).toBe('m0-f0');
    expect(findEntry(app, 'http://openrosa.org/formdesigner/FIELDSIM-HH-VISIT')).toBe(visit);
    expect(() => findEntry(app, 'Visits/Nope')).toThrow(XFormError);
    expect(() => findEntry(app, 'Visits/Visit/extra')).toThrow(XFormError);
    expect(() => findEntry(app, 'Visits/Visit/extra')).toThrow(XFormError);
  });

  it('computes the registration case id with uuid()', () => {
    const reg = findEntry(app, 'm0-f0');
    const id = computeDatum(app, reg, 'case_id_new_household_0', { ...ctx, uuid: () => 'fixed-uuid' });
    expect(id).toBe('fixed-uuid');
  });

  it('builds the case list: open households only, typed multi-key sort, hidden sort column', () => {
    const list = caseList(app, visit, 'case_id', ctx);
    expect(list.title).toBe('Households');
    expect(list.columns.map((c) => c.header)).toEqual(['Name', 'Born', 'Status', 'Age', '']);
    expect(list.columns.map((c) => c.hidden)).toEqual([false, false, false, false, true]);
    // visits descending (7, 2, 2, blank last), then name ascending for the tie
    expect(list.rows.map((r) => r.caseId)).toEqual(['hh-b', 'hh-a', 'hh-c', 'hh-d']);
    const byId = new Map(list.rows.map((r) => [r.caseId, r.cells]));
    expect(byId.get('hh-a')).toEqual(['Banda', '05/03/80', 'Active ', '46', '2']);
    expect(byId.get('hh-b')).toEqual(['achieng', '', ' Moved away', '', '7']);
    expect(byId.get('hh-c')?.slice(1, 4)).toEqual(['24/12/75', 'Active ', '50']);
    expect(byId.get('hh-d')).toEqual(['Dube', '', 'Active ', '', '']);
  });

  it('translates headers and enum labels, falling back to default per string', () => {
    const list = caseList(app, visit, 'case_id', { ...ctx, lang: 'fra' });
    expect(list.columns.map((c) => c.header).slice(0, 3)).toEqual(['Nom', 'Born', 'Status']);
    expect(list.rows.find((r) => r.caseId === 'hh-a')?.cells[2]).toBe('Actif ');
  });

  it('shows the long detail of one case, with current() reaching the case', () => {
    const d = caseDetail(app, visit, 'case_id', 'hh-a', ctx);
    expect(d.tabs).toEqual([
      {
        title: 'Household',
        headers: ['Name', 'Village', 'Head born', 'Members'],
        rows: [['Banda', 'Riverside', '5 March 1980', '2']],
      },
    ]);
  });

  it('refuses a detail for a case the list does not hold', () => {
    expect(() => caseDetail(app, visit, 'case_id', 'hh-closed', ctx)).toThrow(FieldsimError);
  });

  it('checks entry assertions against the chosen case', () => {
    expect(entryAssertionFailure(app, visit, { ...ctx, sessionData: { case_id: 'hh-a' } })).toBeUndefined();
    expect(entryAssertionFailure(app, visit, { ...ctx, sessionData: { case_id: 'gone' } })).toBe(
      'The household is gone\n(sync and try again)',
    );
  });

  it('names the datum it cannot find', () => {
    try {
      caseList(app, visit, 'nope', ctx);
      expect.unreachable();
    } catch (e) {
      expect((e as XFormError).code).toBe('form-not-found');
      expect((e as XFormError).ref).toBe('nope');
    }
  });
});

describe('a sort text apart from the shown template', async () => {
  const dir = join(FIXTURE_APPS, 'household');
  const data = await readRestore(join(dir, 'restore.xml'));
  const suite = `<suite>
    <detail id="s"><title><text>T</text></title>
      <field><header><text>Born</text></header>
        <template><text><xpath function="if(dob = '', '-', format_date(date(dob), '%d/%m/%Y'))"/></text></template>
        <sort type="date" order="1" direction="ascending"><text><xpath function="dob"/></text></sort>
      </field>
    </detail>
    <entry><form>urn:f</form><command id="c"><text>C</text></command>
      <instance id="casedb" src="jr://instance/casedb"/>
      <session><datum id="case_id" nodeset="instance('casedb')/casedb/case[@case_type='household'][@status='open']" value="./@case_id" detail-select="s"/></session>
    </entry></suite>`;
  const profile = `<profile version="1" uniqueid="x" name="x"><suite><resource id="s"><location authority="local">./suite.xml</location></resource></suite></profile>`;
  const app = await loadApp(appFilesFromMap({ 'profile.ccpr': profile, 'suite.xml': suite }));

  it('sorts by the real date, not the day-first text shown', () => {
    const list = caseList(app, findEntry(app, 'c'), 'case_id', contextFor(data));
    // shown text sorted as strings would put 05/03/1980 before 24/12/1975
    expect(list.rows.map((r) => r.cells[0])).toEqual(['24/12/1975', '05/03/1980', '-', '-']);
  });
});

describe('entity sub-node details (EntitySubnodeDetailTest)', async () => {
  const app = await loadApp(sampleApp('entity_subnode_detail'));
  const data = await readRestore(join(CORE_SAMPLES, 'entity_subnode_detail/user_restore.xml'));
  const entry = findEntry(app, 'reports.my_report');

  it('lists the report and shows its four rows in the confirm detail', () => {
    const list = caseList(app, entry, 'report_id_my_report', contextFor(data));
    expect(list.rows.map((r) => r.caseId)).toEqual(['my_report']);
    const d = caseDetail(app, entry, 'report_id_my_report', 'my_report', contextFor(data));
    expect(d.tabs[0]?.headers).toEqual(['Applicant Type', 'Local', 'Remote', 'Unknown']);
    expect(d.tabs[0]?.rows.length).toBe(4);
  });
});

describe('app_structure case list (m0_case_short)', async () => {
  const app = await loadApp(sampleApp('app_structure'));
  const data = await readRestore(join(CORE_SAMPLES, 'app_structure/user_restore.xml'));

  it('lists the open test cases sorted by name', () => {
    const list = caseList(app, findEntry(app, 'm0-f1'), 'case_id', contextFor(data));
    expect(list.title).toBe('Case List');
    expect(list.columns.map((c) => c.header)).toEqual(['Name', 'Name']);
    const names = list.rows.map((r) => r.cells[0] ?? '');
    expect(names.length).toBeGreaterThan(0);
    expect(names).toEqual([...names].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())));
  });
});

describe('compareSortValues', () => {
  it('sorts numbers as numbers, dates as dates, blanks last both ways', () => {
    const sort = (
      values: string[],
      type: 'int' | 'double' | 'date' | 'string',
      dir: 'ascending' | 'descending',
    ) => [...values].sort((a, b) => compareSortValues(a, b, type, dir));
    expect(sort(['10', '', '9', 'x'], 'int', 'ascending')).toEqual(['9', '10', '', 'x']);
    expect(sort(['10', '', '9'], 'int', 'descending')).toEqual(['10', '9', '']);
    expect(sort(['2.5', '10.25'], 'double', 'ascending')).toEqual(['2.5', '10.25']);
    expect(sort(['2024-01-05', '', '2023-12-31'], 'date', 'ascending')).toEqual([
      '2023-12-31',
      '2024-01-05',
      '',
    ]);
    expect(sort(['b', 'A', 'c'], 'string', 'descending')).toEqual(['c', 'b', 'A']);
  });
});

function never(): never {
  throw new Error('context has no user');
}
