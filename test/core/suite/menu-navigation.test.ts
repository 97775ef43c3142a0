import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { XFormError } from '../../../src/core/errors/xform-error.ts';
import { appFilesFromMap } from '../../../src/core/suite/app-files.ts';
import { loadApp } from '../../../src/core/suite/load-app.ts';
import {
  findEntry,
  menuAssertionFailure,
  menuDisplayStyle,
  menuInstances,
  menuItems,
  neededDatums,
  rootMenu,
} from '../../../src/core/suite/menu-navigation.ts';
import type { SuiteContext } from '../../../src/core/suite/suite-context.ts';
import { CORE_SAMPLES, contextFor, readRestore, sampleApp } from './sample-apps.ts';

const noInstances: SuiteContext = { instance: () => undefined };

describe('texts as app_for_text_tests checks them (AppConfiguredTextTests)', async () => {
  const app = await loadApp(sampleApp('app_for_text_tests'));
  const text = (commandId: string, lang: string): string => {
    const item = menuItems(app, 'root', { ...noInstances, lang }).find((i) => i.id === commandId);
    if (!item) throw new Error(`no command ${commandId}`);
    return item.text;
  };

  it('lists the six commands of the root menu in order', () => {
    expect(menuItems(app, 'root', noInstances).map((i) => i.id)).toEqual([
      'test1',
      'test2',
      'test3',
      'test4',
      'test5',
      'test6',
    ]);
  });
  it('plain text', () => expect(text('test1', 'en')).toBe('RAWTEXT'));
  it('localized text falls back to default', () => {
    expect(text('test2', 'en')).toBe('EnglishString');
    expect(text('test2', 'hin')).toBe('DefaultString');
  });
  it('arguments', () => {
    expect(text('test3', 'en')).toBe('ValueArgument');
    expect(text('test3', 'hin')).toBe('ArgumentValue');
  });
  it('a locale id that is itself localized', () => {
    expect(text('test4', 'en')).toBe('Message1');
    expect(text('test4', 'hin')).toBe('Message2');
  });
  it('several arguments, in the order the string places them', () => {
    expect(text('test5', 'en')).toBe('OneThreeTwo');
    expect(text('test5', 'hin')).toBe('TwoOneThree');
    expect(text('test6', 'en')).toBe('OneThreeTwo');
    expect(text('test6', 'hin')).toBe('TwoOneThree');
  });
});

describe('app_structure (AppStructureTests, MenuTests)', async () => {
  const app = await loadApp(sampleApp('app_structure'));

  it('menu styles: agreed, disagreeing, none, one-sided override', () => {
    expect(rootMenu(app)).toEqual({ id: 'root', style: 'grid' });
    expect(menuDisplayStyle(app, 'm1')).toBe('list');
    expect(menuDisplayStyle(app, 'm2')).toBeUndefined();
    expect(menuDisplayStyle(app, 'm0')).toBeUndefined();
    expect(menuDisplayStyle(app, 'm3')).toBe('grid');
  });

  it('the first failing menu assertion gives its message', () => {
    // `2 - 1 = 1` holds, `0 + 1 = 0` fails: its text is the locale id the strings lack.
    expect(menuAssertionFailure(app, 'm0', noInstances)).toBe('custom_assertion.m0.0');
  });

  it('menus with one id pool their instances and their entries instances', () => {
    expect(
      menuInstances(app, 'm3')
        .map((d) => d.id)
        .sort(),
    ).toEqual(['casedb', 'my_instance']);
  });

  it('merges same-id menus under root once each', () => {
    const ids = menuItems(app, 'root', noInstances)
      .filter((i) => i.kind === 'menu')
      .map((i) => i.id);
    // The second m3 block's condition reads an instance nobody supplies; it is never
    // evaluated because the first m3 block (no condition) already put m3 on the screen.
    expect(ids).toEqual(['m0', 'm1', 'm2', 'm3']);
  });

  it('names the suite when a menu condition reads a missing instance', () => {
    try {
      menuItems(app, 'm3', noInstances);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(XFormError);
      expect((e as XFormError).code).toBe('instance-missing');
      expect((e as XFormError).file).toBe('suite.xml');
      expect((e as XFormError).message).toContain('display condition of menu m3');
    }
  });

  it('lists both blocks commands for a repeated menu id', () => {
    expect(menuItems(app, 'm1', noInstances).map((i) => i.id)).toEqual(['m0-f0', 'm0-f1']);
  });

  it('finds entries by command id and by xmlns, and names the key it cannot find', () => {
    expect(findEntry(app, 'm0-f1').commandId).toBe('m0-f1');
    expect(findEntry(app, 'http://commcarehq.org/test/placeholder').commandId).toBe('m0-f0');
    try {
      findEntry(app, 'm9-f9');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(XFormError);
      expect((e as XFormError).code).toBe('form-not-found');
      expect((e as XFormError).ref).toBe('m9-f9');
    }
  });
});

describe('numeric badge (AppStructureTests testDisplayBlockParsing_good)', async () => {
  const app = await loadApp(sampleApp('app_with_good_numeric_badge'));
  const data = await readRestore(join(CORE_SAMPLES, 'app_with_good_numeric_badge/user_restore.xml'));

  it('shows the display text and the badge count of open test cases', () => {
    const m1 = menuItems(app, 'root', contextFor(data)).find((i) => i.id === 'm1');
    expect(m1?.kind).toBe('menu');
    expect(m1?.text).toBe('Menu 1 Text');
    if (m1?.kind === 'menu') expect(m1.badge).toBe('1');
  });
});

describe('menu display conditions (EvalContextTests)', async () => {
  const app = await loadApp(sampleApp('app_with_menu_display_conditions'));
  const data = await readRestore(join(CORE_SAMPLES, 'app_with_menu_display_conditions/user_restore.xml'));

  it('m0 shows (an open case exists); m1 hides (the user has no role)', () => {
    const ids = menuItems(app, 'root', contextFor(data)).map((i) => i.id);
    expect(ids).toEqual(['m0']);
  });

  it('m1 shows once the user has a role', () => {
    const ctx = contextFor(data);
    const withRole: SuiteContext = { ...ctx, user: { ...(ctx.user ?? fail()), userData: { role: 'nurse' } } };
    expect(menuItems(app, 'root', withRole).map((i) => i.id)).toEqual(['m0', 'm1']);
  });

  it('m0 hides with no cases', () => {
    const ctx = contextFor({ ...data, casedb: emptyCaseDb(data) });
    expect(menuItems(app, 'root', ctx).map((i) => i.id)).toEqual([]);
  });

  it('shows a missing app string as its id', () => {
    expect(menuItems(app, 'root', contextFor(data))[0]?.text).toBe('modules.m0');
  });

  it('orders needed datums: computed for registration, case for follow-up', () => {
    expect(neededDatums(findEntry(app, 'm0-f0')).map((d) => [d.kind, d.id])).toEqual([
      ['computed', 'case_id_new_case_0'],
    ]);
    const followup = findEntry(app, 'http://openrosa.org/formdesigner/A07B61A8-850A-4E4F-BCB5-B4B9D288C6E7');
    expect(neededDatums(followup).map((d) => [d.kind, d.id])).toEqual([['entity', 'case_id']]);
    expect(neededDatums(followup, { case_id: 'case_one' })).toEqual([]);
  });
});

function fail(): never {
  throw new Error('no user in context');
}

function emptyCaseDb(data: Awaited<ReturnType<typeof readRestore>>) {
  const doc = data.casedb.clone();
  const db = doc.children[0];
  if (db) db.children = [];
  return doc;
}

describe('findEntry by names that hold a slash', async () => {
  const suite = `<suite><entry><form>urn:f</form><command id="m0-f0"><text>Visit 1/2</text></command></entry>
    <menu id="m0"><text>Mothers/Babies</text><command id="m0-f0"/></menu></suite>`;
  const profile = `<profile version="1"><suite><resource id="s"><location authority="local">./suite.xml</location></resource></suite></profile>`;
  const app = await loadApp(appFilesFromMap({ 'profile.ccpr': profile, 'suite.xml': suite }));

  it('tries every split point', () => {
    expect(findEntry(app, 'Mothers/Babies/Visit 1/2').commandId).toBe('m0-f0');
  });
});
