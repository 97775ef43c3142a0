import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { XFormError } from '../../../src/core/errors/xform-error.ts';
import { appFilesFromMap, appFilesFromZip } from '../../../src/core/suite/app-files.ts';
import { formXmlns, loadApp } from '../../../src/core/suite/load-app.ts';
import { CORE_SAMPLES, sampleApp } from './sample-apps.ts';

async function loadError(p: Promise<unknown>): Promise<XFormError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof XFormError) return e;
    throw e;
  }
  throw new Error('expected the load to fail');
}

describe('loadApp on commcare-core test apps', () => {
  it('installs app_structure: profile, suite, strings, one form, merged menus', async () => {
    const app = await loadApp(sampleApp('app_structure'));
    expect(app.name).toBe('trivial_test_resources');
    expect(app.uniqueId).toBe('id');
    expect(app.version).toBe(1);
    expect(app.languages).toEqual(['default']);
    expect([...app.forms.keys()]).toEqual(['http://commcarehq.org/test/placeholder']);
    expect(app.forms.get('http://commcarehq.org/test/placeholder')?.path).toBe('form_placeholder.xml');
    expect(app.text('m0_select_text')).toBe('Continue With Case');
    expect(app.menus.map((m) => m.id)).toEqual(['m0', 'root', 'm1', 'm1', 'm2', 'm2', 'm3', 'm3']);
    // <entry>s and the <remote-request>
    expect([...app.entries.keys()]).toEqual(['m0-f0', 'm0-f1', 'patient-search']);
    expect(app.entries.get('patient-search')?.unsupported).toEqual(['remote-request', 'post', 'query']);
    expect(app.entries.get('m0-f0')?.unsupported).toEqual(['instance-datum']);
    expect(app.details.get('m1_case_short')?.focus).toBe("case_name = 'Fake Case Name'");
    expect(app.details.get('m0_case_short')?.focus).toBeUndefined();
  });

  it('installs app_for_text_tests with three locales, default last', async () => {
    const app = await loadApp(sampleApp('app_for_text_tests'));
    expect(app.languages).toEqual(['en', 'hin', 'default']);
    expect(app.text('display.string', 'en')).toBe('EnglishString');
    expect(app.text('display.string', 'hin')).toBe('DefaultString');
    expect(app.lookupText('nope', 'en')).toBeUndefined();
    expect(app.text('nope', 'en')).toBe('nope');
    expect(app.forms.size).toBe(2);
  });

  it('installs the large real form of app_performance and links it by xmlns', async () => {
    const app = await loadApp(sampleApp('app_performance'));
    expect(app.forms.size).toBe(1);
    const [form] = [...app.forms.values()];
    expect(form?.path).toBe('large_tdh_form.xml');
    const linked = [...app.entries.values()].filter(
      (e) => e.formXmlns !== undefined && app.forms.has(e.formXmlns),
    );
    expect(linked.length).toBeGreaterThan(0);
  });

  it('installs basic_app/basic.ccz (HQ build with media suite and three locales)', async () => {
    const app = await loadApp(
      appFilesFromZip(new Uint8Array(readFileSync(join(CORE_SAMPLES, 'basic_app/basic.ccz')))),
    );
    expect(app.name).toBe('Basic Tests');
    expect(app.version).toBe(1399);
    expect(app.uniqueId).toBe('7ba9b150718448c442aa0ab3efd53995');
    expect(app.profileProperties.get('cur_locale')).toBe('en');
    expect(app.defaultLanguage).toBe('en');
    expect(app.languages).toEqual(['en', 'hin', 'default']);
    // one suite kept (the media suite is parsed, not kept)
    expect(app.suites.length).toBe(1);
    expect(app.forms.size).toBe(zipSuiteXformCount());
    expect(app.forms.size).toBeGreaterThan(40);
    for (const e of app.entries.values()) {
      if (e.kind === 'entry' && e.formXmlns !== undefined) expect(app.forms.has(e.formXmlns)).toBe(true);
    }
  });

  for (const name of [
    'app_with_menu_display_conditions',
    'complex_stack',
    'case_title_form_loading',
    'entity_subnode_detail',
    'app_with_good_numeric_badge',
    'app_with_good_demo_restore',
    'empty_app_elements',
    'nav_back',
    'template',
    'session-tests-template',
    'stack-frame-copy-app',
    'case_claim_example',
    'queries_in_entry_and_stack',
  ]) {
    it(`installs ${name}`, async () => {
      const app = await loadApp(sampleApp(name));
      expect(app.suites.length).toBe(1);
      for (const m of app.menus) for (const c of m.commands) expect(app.entries.has(c.id)).toBe(true);
    });
  }

  it('reads the demo user restore of app_with_good_demo_restore', async () => {
    const app = await loadApp(sampleApp('app_with_good_demo_restore'));
    expect(app.demoUserRestore?.username).toBe('test');
  });

  it('refuses a demo restore whose user is not a demo user (AppStructureTests)', async () => {
    const e = await loadError(loadApp(sampleApp('app_with_bad_demo_restore')));
    expect(e.code).toBe('app-invalid');
    expect(e.file).toBe('user_restore.xml');
    expect(e.message).toContain('Demo user restore file must be for a user with user_type set to demo');
  });

  it('refuses a demo restore without a username (AppStructureTests)', async () => {
    const e = await loadError(loadApp(sampleApp('app_with_bad_demo_restore2')));
    expect(e.code).toBe('app-invalid');
    expect(e.message).toContain('Demo user restore file must specify a username in the Registration block');
  });

  it('refuses a badge whose XPath does not parse (app_with_bad_numeric_badge)', async () => {
    const e = await loadError(loadApp(sampleApp('app_with_bad_numeric_badge')));
    expect(e.code).toBe('app-invalid');
    expect(e.file).toBe('suite.xml');
    expect(e.message).toContain('Invalid XPath Expression : ,3');
  });
});

/** The number of <xform> resources in the .ccz's suite.xml, read without the loader. */
function zipSuiteXformCount(): number {
  const files = unzipSync(new Uint8Array(readFileSync(join(CORE_SAMPLES, 'basic_app/basic.ccz'))));
  const suite = new TextDecoder().decode(files['suite.xml']);
  return suite.split('<xform>').length - 1;
}

describe('loadApp: bad input', () => {
  const profile = (suiteHref = './suite.xml') =>
    `<profile version="3" uniqueid="u1" name="Tiny" update=""><suite><resource id="suite" version="1"><location authority="local">${suiteHref}</location></resource></suite></profile>`;
  const suite = (body: string) => `<suite version="1">${body}</suite>`;
  const form = (xmlns: string) =>
    `<h:html xmlns:h="http://www.w3.org/1999/xhtml" xmlns="http://www.w3.org/2002/xforms"><h:head><model><instance><data xmlns="${xmlns}"><q/></data></instance></model></h:head><h:body/></h:html>`;
  const xformRes = (href: string) =>
    `<xform><resource id="f" version="1"><location authority="local">${href}</location></resource></xform>`;

  it('names a missing profile', async () => {
    const e = await loadError(loadApp(appFilesFromMap({ 'suite.xml': suite('') })));
    expect(e.code).toBe('app-invalid');
    expect(e.file).toBe('profile.ccpr');
  });

  it('names a malformed profile', async () => {
    const e = await loadError(loadApp(appFilesFromMap({ 'profile.ccpr': '<profile version="1"><suite>' })));
    expect(e.code).toBe('app-invalid');
    expect(e.file).toBe('profile.ccpr');
  });

  it('names the suite a profile declares but the app lacks', async () => {
    const e = await loadError(loadApp(appFilesFromMap({ 'profile.ccpr': profile('./other/suite.xml') })));
    expect(e.code).toBe('app-invalid');
    expect(e.file).toBe('other/suite.xml');
    expect(e.message).toContain('profile.ccpr declares other/suite.xml');
  });

  it('names a malformed suite', async () => {
    const e = await loadError(
      loadApp(appFilesFromMap({ 'profile.ccpr': profile(), 'suite.xml': '<suite><menu id="m0"></suite>' })),
    );
    expect(e.code).toBe('app-invalid');
    expect(e.file).toBe('suite.xml');
    expect(e.message).toMatch(/not well-formed/);
  });

  it('names a form file the suite declares but the app lacks', async () => {
    const e = await loadError(
      loadApp(
        appFilesFromMap({
          'profile.ccpr': profile(),
          'suite.xml': suite(xformRes('./modules-0/forms-0.xml')),
        }),
      ),
    );
    expect(e.code).toBe('app-invalid');
    expect(e.file).toBe('modules-0/forms-0.xml');
  });

  it('names a locale file the suite declares but the app lacks', async () => {
    const loc = `<locale language="default"><resource id="d" version="1"><location authority="local">./default/app_strings.txt</location></resource></locale>`;
    const e = await loadError(
      loadApp(appFilesFromMap({ 'profile.ccpr': profile(), 'suite.xml': suite(loc) })),
    );
    expect(e.file).toBe('default/app_strings.txt');
  });

  it('names a form whose primary instance has no xmlns', async () => {
    const e = await loadError(
      loadApp(
        appFilesFromMap({
          'profile.ccpr': profile(),
          'suite.xml': suite(xformRes('./f.xml')),
          'f.xml': form('').replace(' xmlns=""', ''),
        }),
      ),
    );
    expect(e.code).toBe('app-invalid');
    expect(e.file).toBe('f.xml');
  });

  it('names a menu command no entry defines', async () => {
    const e = await loadError(
      loadApp(
        appFilesFromMap({
          'profile.ccpr': profile(),
          'suite.xml': suite('<menu id="m0"><text>M</text><command id="m0-f9"/></menu>'),
        }),
      ),
    );
    expect(e.code).toBe('app-invalid');
    expect(e.ref).toBe('m0-f9');
  });

  it('tries the remote location after a missing local one', async () => {
    const res = `<xform><resource id="f" version="1"><location authority="local">./gone.xml</location><location authority="remote">./modules-0/forms-0.xml</location></resource></xform>`;
    const app = await loadApp(
      appFilesFromMap({
        'profile.ccpr': profile(),
        'suite.xml': suite(res),
        'modules-0/forms-0.xml': form('urn:f'),
      }),
    );
    expect(app.forms.get('urn:f')?.path).toBe('modules-0/forms-0.xml');
  });

  it('reads the xmlns of the primary instance', () => {
    expect(formXmlns(form('http://openrosa.org/formdesigner/X'), 'f.xml')).toBe(
      'http://openrosa.org/formdesigner/X',
    );
  });
});
