import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { XFormError } from '../../../src/core/errors/xform-error.ts';
import { attr, childElements, parseXmlTree } from '../../../src/core/protocol/xml-tree.ts';
import type { AppDoc } from '../../../src/server/apps/app-doc.ts';
import { readAppDir, readCcz } from '../../../src/server/apps/app-package.ts';
import { importApp } from '../../../src/server/apps/import-app.ts';
import { type AppFiles, getApp, getAppFile } from '../../../src/server/db/apps.ts';
import { type Db, openDatabase } from '../../../src/server/db/database.ts';
import { samplesDir } from '../helpers.ts';

const core = resolve(samplesDir(), 'commcare-core');
const BASIC_CCZ = join(core, 'basic_app/basic.ccz');
const TEXT_APP = join(core, 'app_for_text_tests');

let dir: string;
let db: Db;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fieldsim-import-'));
  db = openDatabase(join(dir, 'data'));
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Zips files (path -> text or bytes) to a .ccz in the temp folder. */
function ccz(name: string, files: Record<string, string | Uint8Array>): string {
  const entries: Record<string, Uint8Array> = {};
  for (const [p, v] of Object.entries(files)) entries[p] = typeof v === 'string' ? strToU8(v) : v;
  const path = join(dir, name);
  writeFileSync(path, zipSync(entries));
  return path;
}

function asRecord(files: AppFiles): Record<string, Uint8Array> {
  return Object.fromEntries(files);
}

function importError(source: string): XFormError {
  try {
    importApp(db, 'demo', source);
  } catch (e) {
    if (e instanceof XFormError) return e;
    throw e;
  }
  throw new Error(`importing ${source} did not fail`);
}

const doc = (id: string) => getApp(db, 'demo', id)?.doc as unknown as AppDoc;

describe('importApp', () => {
  it('imports the real basic.ccz: id, name and version from the profile, every file, modules and forms', () => {
    const r = importApp(db, 'demo', BASIC_CCZ);
    expect(r.status).toBe('created');
    expect([r.app.id, r.app.name, r.app.version]).toEqual([
      '7ba9b150718448c442aa0ab3efd53995',
      'Basic Tests',
      1399,
    ]);
    const original = readCcz(new Uint8Array(readFileSync(BASIC_CCZ)), 'basic.ccz');
    for (const [path, data] of original) expect(getAppFile(db, r.app.id, path), path).toEqual(data);

    const d = doc(r.app.id);
    expect(d.modules.map((m) => m.name.en)).toContain('Case Tests');
    const cases = d.modules.find((m) => m.name.en === 'Case Tests')!;
    expect(cases.case_type).toBe('coverage_basic');
    expect(cases.name).toEqual({ en: 'Case Tests', hin: 'Case Tests' });
    expect(cases.forms.map((f) => f.name.en)).toEqual([
      'Create a Case',
      'Update a Case',
      'Close a Case',
      'Create a Sub Case',
      'Create Multiple Sub Cases',
    ]);
    const close = cases.forms[2]!;
    expect(close.xmlns).toBe('http://openrosa.org/formdesigner/1E47917F-D81B-45BA-BDF5-2F8AC92B116F');
    expect(close.questions).toEqual([
      {
        label: 'Are you sure you want to close this case?',
        translations: {
          en: 'Are you sure you want to close this case?',
          hin: 'Are you sure you want to close this case?',
        },
        tag: 'close',
        value: '/data/close',
        type: 'Select',
        required: true,
        options: [
          {
            label: 'Confirm - Please close this case.',
            value: 'confirm',
            translations: {
              en: 'Confirm - Please close this case.',
              hin: 'Confirm - Please close this case.',
            },
          },
          {
            label: 'Cancel - Please leave this case open.',
            value: 'cancel',
            translations: {
              en: 'Cancel - Please leave this case open.',
              hin: 'Cancel - Please leave this case open.',
            },
          },
        ],
      },
    ]);
    // A module whose menu uses <display> (badges) still gets its name.
    expect(d.modules.map((m) => m.name.en)).toContain('Module Badge Check');
    // Question types come from the controls and their binds.
    const types = new Set(d.modules.flatMap((m) => m.forms.flatMap((f) => f.questions.map((q) => q.type))));
    for (const t of ['Text', 'Int', 'Select', 'MSelect', 'Date', 'Repeat', 'Trigger', 'DataBindOnly'])
      expect(types, t).toContain(t);
  });

  it('imports an unzipped app folder, and the same app zipped, with names from app_strings', () => {
    const fromDir = importApp(db, 'demo', TEXT_APP);
    expect([fromDir.status, fromDir.app.id, fromDir.app.name]).toEqual([
      'created',
      'id',
      'trivial_test_resources',
    ]);
    const d = doc('id');
    expect(d.modules).toHaveLength(1);
    expect(d.modules[0]!.name).toEqual({
      en: 'Root Menu, test cases should appear below',
      hin: 'Root Menu, test cases should appear below',
    });
    // Plain text, a locale id, arguments, an id from a nested locale: per language.
    expect(d.modules[0]!.forms.map((f) => f.name)).toEqual([
      { en: 'RAWTEXT', hin: 'RAWTEXT' },
      { en: 'EnglishString', hin: 'DefaultString' },
      { en: 'ValueArgument', hin: 'ArgumentValue' },
      { en: 'Message1', hin: 'Message2' },
      { en: 'OneThreeTwo', hin: 'TwoOneThree' },
      { en: 'OneThreeTwo', hin: 'TwoOneThree' },
    ]);

    const zipped = ccz('text.ccz', asRecord(readAppDir(TEXT_APP)));
    const again = importApp(db, 'demo', zipped);
    expect(again.status).toBe('unchanged');
    expect(again.app.version).toBe(1);
  });

  it('gives a changed build of the same app a higher version, bumping the changed resources', () => {
    const files = asRecord(readAppDir(TEXT_APP));
    importApp(db, 'demo', ccz('v1.ccz', files));
    const strings = new TextDecoder().decode(files['en/app_strings.txt']);
    const changed = {
      ...files,
      'en/app_strings.txt': strToU8(strings.replace('EnglishString', 'NewString')),
    };
    const r = importApp(db, 'demo', ccz('v2.ccz', changed));
    expect([r.status, r.previousVersion, r.app.version]).toEqual(['replaced', 1, 2]);
    expect(doc('id').modules[0]!.forms[1]!.name.en).toBe('NewString');
    const profile = parseXmlTree(new TextDecoder().decode(getAppFile(db, 'id', 'profile.ccpr')));
    expect(attr(profile, 'version')).toBe('2');
    expect(attr(childElements(childElements(profile, 'suite')[0]!, 'resource')[0]!, 'version')).toBe('2');
    const suite = parseXmlTree(new TextDecoder().decode(getAppFile(db, 'id', 'suite.xml')));
    const version = (lang: string) =>
      attr(
        childElements(
          childElements(suite, 'locale').find((l) => attr(l, 'language') === lang)!,
          'resource',
        )[0]!,
        'version',
      );
    expect(version('en')).toBe('2');
    expect(version('hin')).toBe('330');
    // Re-importing the same changed build changes nothing; a build with a higher profile
    // version keeps its own version.
    expect(importApp(db, 'demo', ccz('v2b.ccz', changed)).status).toBe('unchanged');
    const profileText = new TextDecoder()
      .decode(files['profile.ccpr'])
      .replace('version="1"', 'version="40"');
    const v40 = importApp(db, 'demo', ccz('v40.ccz', { ...changed, 'profile.ccpr': strToU8(profileText) }));
    expect([v40.status, v40.app.version]).toEqual(['replaced', 40]);
  });

  it('refuses broken apps with an app-invalid error naming the file and the reason', () => {
    const text = asRecord(readAppDir(TEXT_APP));
    const notZip = join(dir, 'not.ccz');
    writeFileSync(notZip, 'this is not a zip');
    const cases: [string, RegExp, string | undefined][] = [
      [notZip, /not\.ccz: not a readable zip archive/, notZip],
      [join(dir, 'missing.ccz'), /missing\.ccz: no such file or folder/, undefined],
      [
        ccz('noprofile.ccz', { 'suite.xml': text['suite.xml']! }),
        /noprofile\.ccz: no profile\.ccpr/,
        'profile.ccpr',
      ],
      [
        ccz('nosuite.ccz', { 'profile.ccpr': text['profile.ccpr']! }),
        /nosuite\.ccz: no suite\.xml \(named by profile\.ccpr\)/,
        'suite.xml',
      ],
      [
        ccz('badsuite.ccz', { ...text, 'suite.xml': '<suite><menu></suite>' }),
        /badsuite\.ccz: suite\.xml is not well-formed XML/,
        'suite.xml',
      ],
      [
        ccz('badprofile.ccz', { ...text, 'profile.ccpr': '<profile version="x" uniqueid="a"/>' }),
        /badprofile\.ccz: profile\.ccpr has no integer version/,
        'profile.ccpr',
      ],
      [
        ccz('noid.ccz', { ...text, 'profile.ccpr': '<profile version="1" uniqueid="a b"/>' }),
        /noid\.ccz: profile\.ccpr has no usable uniqueid/,
        'profile.ccpr',
      ],
      [
        ccz('badform.ccz', {
          ...text,
          'modules-0/forms-0.xml': '<h:html xmlns:h="http://www.w3.org/1999/xhtml"><oops',
        }),
        /badform\.ccz: modules-0\/forms-0\.xml is not well-formed XML/,
        'modules-0/forms-0.xml',
      ],
    ];
    for (const [source, message, file] of cases) {
      const e = importError(source);
      expect(e.code, source).toBe('app-invalid');
      expect(e.message).toMatch(message);
      if (file !== undefined) expect(e.file).toBe(file);
    }
    expect(getApp(db, 'demo', 'id')).toBeUndefined();
  });

  it("refuses an app id another project's app already has", () => {
    importApp(db, 'other', TEXT_APP);
    expect(importError(TEXT_APP).message).toMatch(/app id id .* is already used by project other/);
  });
});
