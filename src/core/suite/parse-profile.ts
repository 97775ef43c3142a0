import { XFormError } from '../errors/xform-error.ts';
import { attr, childElement, childElements, parseXmlTree, type XmlElement } from '../protocol/xml-tree.ts';
import { parseResource } from './parse-suite.ts';
import type { SuiteResource } from './suite-model.ts';

/** `profile.ccpr`: the app's identity, its properties and the suites to install. */
export interface ParsedProfile {
  /** The build's version (`version` attribute): HQ's build number. */
  version: number;
  uniqueId: string;
  name: string;
  /** Where the phone checks for updates (`update` attribute), `''` when none. */
  updateUrl: string;
  properties: Map<string, string>;
  suites: SuiteResource[];
}

/**
 * Reads a profile as commcare-core `ProfileParser` does: `<profile version uniqueid name
 * update>`, `<property key value force>` (a later property with the same key wins),
 * and each `<suite><resource>` in order. Older profiles carry no `uniqueid`/`name`; the
 * phone fills them in, and so does fieldsim (from the update URL's app id, and
 * "CommCare").
 */
export function parseProfile(xml: string, file = 'profile.ccpr'): ParsedProfile {
  let root: XmlElement;
  try {
    root = parseXmlTree(xml, { file });
  } catch (e) {
    throw new XFormError('app-invalid', `${file} is not well-formed XML: ${(e as Error).message}`, {
      file,
      cause: e,
    });
  }
  if (root.local !== 'profile')
    throw new XFormError('app-invalid', `${file}: the root element is <${root.name}>, not <profile>`, {
      file,
    });
  const versionRaw = attr(root, 'version') ?? '';
  const version = Number.parseInt(versionRaw, 10);
  if (!/^\d+$/.test(versionRaw.trim()) || Number.isNaN(version))
    throw new XFormError(
      'app-invalid',
      `${file}: the profile version "${versionRaw}" is not a whole number`,
      {
        file,
      },
    );
  const updateUrl = attr(root, 'update') ?? '';
  const properties = new Map<string, string>();
  for (const p of childElements(root, 'property')) {
    const key = attr(p, 'key');
    if (key !== undefined) properties.set(key, attr(p, 'value') ?? '');
  }
  const suites: SuiteResource[] = [];
  for (const s of childElements(root, 'suite')) {
    const r = childElement(s, 'resource');
    if (!r)
      throw new XFormError('app-invalid', `${file} line ${s.line}: <suite> has no <resource>`, { file });
    suites.push(parseResource(r, file));
  }
  if (suites.length === 0) throw new XFormError('app-invalid', `${file} declares no <suite>`, { file });
  const fromUpdate = /\/apps\/download\/([^/?#]+)\//.exec(updateUrl)?.[1];
  return {
    version,
    uniqueId: attr(root, 'uniqueid') || fromUpdate || '',
    name: attr(root, 'name') || 'CommCare',
    updateUrl,
    properties,
    suites,
  };
}
