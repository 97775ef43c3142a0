import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseXmlTree } from '../../../src/core/protocol/xml-tree.ts';
import { readAppSource } from '../../../src/server/apps/app-package.ts';
import { parseAppStrings, suiteText } from '../../../src/server/apps/app-strings.ts';
import { readAppModules } from '../../../src/server/apps/read-app-structure.ts';
import { readProfile } from '../../../src/server/apps/read-profile.ts';
import { resourcePath } from '../../../src/server/apps/resource-path.ts';
import { rewriteProfile } from '../../../src/server/apps/rewrite-profile.ts';
import { samplesDir } from '../helpers.ts';

const core = join(samplesDir(), 'commcare-core');

function read(source: string) {
  const files = readAppSource(source);
  const profile = readProfile(files, source);
  return { files, profile, modules: readAppModules(files, profile.suitePaths, source) };
}

describe('reading CommCare apps', () => {
  it('reads every app among the commcare-core samples', () => {
    const apps = readdirSync(core).filter((d) => {
      try {
        return statSync(join(core, d, 'profile.ccpr')).isFile();
      } catch {
        return false;
      }
    });
    expect(apps.length).toBeGreaterThanOrEqual(15);
    for (const a of apps) {
      const { profile, modules } = read(join(core, a));
      expect(profile.suitePaths, a).toContain('suite.xml');
      for (const m of modules) expect(m.forms.length, `${a} ${m.unique_id}`).toBeGreaterThan(0);
    }
  });

  it("takes a module's case type from its case_id datum and its name from app_strings", () => {
    const { modules } = read(join(core, 'app_structure'));
    expect(modules.map((m) => [m.unique_id, m.name.en, m.case_type])).toEqual([
      ['m0', 'Menu', ''],
      ['m1', 'Menu', 'test_case'],
      ['m2', 'Menu', 'test_case'],
      ['m3', 'Menu', 'test_case'],
    ]);
    const titled = read(join(core, 'case_title_form_loading')).modules;
    expect(titled.map((m) => [m.unique_id, m.name.en, m.case_type])).toContainEqual([
      'm0',
      'patients',
      'adult',
    ]);
  });

  it('resolves resource locations to app paths', () => {
    expect(resourcePath('./suite.xml')).toBe('suite.xml');
    expect(resourcePath(' ./modules-0/forms-1.xml ')).toBe('modules-0/forms-1.xml');
    expect(resourcePath('jr://resource/default/app_strings.txt')).toBe('default/app_strings.txt');
    expect(
      resourcePath(
        'https://www.commcarehq.org/a/ccqa/apps/download/60b4c0f3f36e45f9967b4d89d363538e/suite.xml?profile=x',
      ),
    ).toBe('suite.xml');
    expect(resourcePath('modules-0/forms-0.xml')).toBe('modules-0/forms-0.xml');
    expect(
      resourcePath('https://www.commcarehq.org/hq/multimedia/file/CommCareImage/63c9/q.png'),
    ).toBeUndefined();
    expect(resourcePath('./../../etc/passwd')).toBeUndefined();
  });

  it('reads app strings and suite text: locale ids, arguments, xpath, fallback to default', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CommCare's argument placeholders
    const en = parseAppStrings('# comment\nmodules.m0=Households\n\nwith.arg=Visit ${0} of ${1}\nbad line\n');
    const fallback = parseAppStrings('only.default=From default\nmodules.m0=Default households');
    expect([...en.entries()]).toEqual([
      ['modules.m0', 'Households'],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CommCare's argument placeholders
      ['with.arg', 'Visit ${0} of ${1}'],
    ]);
    const text = (xml: string) => suiteText(parseXmlTree(xml), en, fallback);
    expect(text('<text><locale id="modules.m0"/></text>')).toBe('Households');
    expect(
      text('<text><locale id="with.arg"><argument>2</argument><argument>5</argument></locale></text>'),
    ).toBe('Visit 2 of 5');
    expect(text('<text><locale id="only.default"/></text>')).toBe('From default');
    expect(text('<text><xpath function="concat(case_name, \'!\')"/></text>')).toBe("concat(case_name, '!')");
    expect(text('<text>\n  Plain   words\n</text>')).toBe('Plain words');
  });

  it('rewrites a profile to name this server, keeping local locations and other properties', () => {
    const { files } = read(join(core, 'basic_app/basic.ccz'));
    const xml = rewriteProfile(new TextDecoder().decode(files.get('profile.ccpr')), {
      origin: 'http://127.0.0.1:9999',
      domain: 'demo',
      appId: 'abc',
    });
    const profile = parseXmlTree(xml);
    expect(profile.attrs.find((a) => a.name === 'update')?.value).toBe(
      'http://127.0.0.1:9999/a/demo/apps/download/abc/profile.ccpr?latest=true',
    );
    expect(xml).toContain('<location authority="local">./suite.xml</location>');
    expect(xml).toContain(
      '<location authority="remote">http://127.0.0.1:9999/a/demo/apps/download/abc/media_suite.xml</location>',
    );
    expect(xml).toContain('key="PostURL" value="http://127.0.0.1:9999/a/demo/receiver/abc/"');
    expect(xml).toContain('key="cc-user-mode" value="cc-u-normal"');
    expect(xml).not.toContain('www.commcarehq.org/a/ccqa/apps');
  });
});
