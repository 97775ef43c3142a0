import { XFormError } from '../../core/errors/xform-error.ts';
import { XmlError } from '../../core/errors/xml-error.ts';
import {
  attr,
  childElements,
  parseXmlTree,
  textContent,
  type XmlElement,
} from '../../core/protocol/xml-tree.ts';
import type { AppFiles } from '../db/apps.ts';
import { resourcePath } from './resource-path.ts';

export const PROFILE_PATH = 'profile.ccpr';

/** What the emulator needs from an app's `profile.ccpr`. */
export interface AppProfile {
  /** The app's id across builds (HQ writes the app's master id here). */
  uniqueId: string;
  name: string;
  /** The build's version: a phone updates when it grows. */
  version: number;
  /** Paths of the suites the profile installs (`suite.xml`, `media_suite.xml`). */
  suitePaths: string[];
}

const decoder = new TextDecoder('utf-8');

/** An app file as text (UTF-8; a BOM is dropped). */
export function appText(files: AppFiles, path: string): string | undefined {
  const data = files.get(path);
  if (data === undefined) return undefined;
  return decoder.decode(data).replace(/^\uFEFF/, '');
}

/**
 * Parses one of the app's XML files; a missing or malformed file is an `app-invalid`
 * error naming the source (the `.ccz` or folder) and the file.
 */
export function appXml(files: AppFiles, path: string, source: string): XmlElement {
  const text = appText(files, path);
  if (text === undefined) throw new XFormError('app-invalid', `${source}: no ${path}`, { file: path });
  try {
    return parseXmlTree(text, { file: path });
  } catch (e) {
    const reason = e instanceof XmlError ? e.message : String(e);
    throw new XFormError('app-invalid', `${source}: ${path} is not well-formed XML (${reason})`, {
      file: path,
      cause: e,
    });
  }
}

/**
 * Reads `profile.ccpr` (commcare-core `ProfileParser`,
 * commcare-core:src/main/java/org/commcare/xml/ProfileParser.java): the root's `uniqueid`,
 * `name` and `version`, and the `<suite><resource><location>` entries; CommCare installs
 * a suite from its first location that resolves, so the first one naming an app file counts.
 */
export function readProfile(files: AppFiles, source: string): AppProfile {
  const root = appXml(files, PROFILE_PATH, source);
  if (root.local !== 'profile')
    throw new XFormError(
      'app-invalid',
      `${source}: ${PROFILE_PATH} has <${root.name}> as its root, not <profile>`,
      {
        file: PROFILE_PATH,
      },
    );
  const uniqueId = (attr(root, 'uniqueid') ?? '').trim();
  if (!/^[\w-]+$/.test(uniqueId))
    throw new XFormError(
      'app-invalid',
      `${source}: ${PROFILE_PATH} has no usable uniqueid (${JSON.stringify(uniqueId)})`,
      {
        file: PROFILE_PATH,
      },
    );
  const versionText = attr(root, 'version') ?? '';
  const version = Number(versionText);
  if (!Number.isInteger(version) || version < 0)
    throw new XFormError(
      'app-invalid',
      `${source}: ${PROFILE_PATH} has no integer version (${JSON.stringify(versionText)})`,
      {
        file: PROFILE_PATH,
      },
    );
  const suitePaths: string[] = [];
  for (const suite of childElements(root, 'suite'))
    for (const resource of childElements(suite, 'resource')) {
      const paths = childElements(resource, 'location')
        .map((l) => resourcePath(textContent(l)))
        .filter((p): p is string => p !== undefined);
      const path = paths.find((p) => files.has(p)) ?? paths[0];
      if (path !== undefined && !suitePaths.includes(path)) suitePaths.push(path);
    }
  if (suitePaths.length === 0)
    throw new XFormError('app-invalid', `${source}: ${PROFILE_PATH} names no suite`, { file: PROFILE_PATH });
  for (const p of suitePaths)
    if (!files.has(p))
      throw new XFormError('app-invalid', `${source}: no ${p} (named by ${PROFILE_PATH})`, { file: p });
  return { uniqueId, name: attr(root, 'name') ?? uniqueId, version, suitePaths };
}
