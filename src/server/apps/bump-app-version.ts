import {
  attr,
  childElement,
  childElements,
  parseXmlTree,
  type XmlElement,
} from '../../core/protocol/xml-tree.ts';
import type { AppFiles } from '../db/apps.ts';
import { appText, PROFILE_PATH } from './read-profile.ts';
import { resourcePath } from './resource-path.ts';
import { writeXmlTree } from './write-xml-tree.ts';

const encoder = new TextEncoder();

function setAttr(el: XmlElement, name: string, value: string): void {
  const a = el.attrs.find((x) => x.name === name);
  if (a) a.value = value;
  else el.attrs.push({ name, local: name, prefix: '', uri: '', value });
}

/**
 * Gives a new build of an app a higher version than the stored one, so that installed
 * phones update. CommCare's resource table replaces a resource only when the new table
 * holds it with a greater version (commcare-core `ResourceTable` upgrade,
 * commcare-core:src/main/java/org/commcare/resources/model/ResourceTable.java), so the
 * profile's version, its suite resources' versions, and in each suite the versions of
 * the resources whose file changed (or is new) all become `version`.
 */
export function bumpAppVersion(
  files: AppFiles,
  previous: AppFiles,
  suitePaths: string[],
  version: number,
): AppFiles {
  const out: AppFiles = new Map(files);
  const v = String(version);
  const profile = parseXmlTree(appText(files, PROFILE_PATH) ?? '', { file: PROFILE_PATH });
  setAttr(profile, 'version', v);
  for (const suite of childElements(profile, 'suite'))
    for (const r of childElements(suite, 'resource')) setAttr(r, 'version', v);
  out.set(PROFILE_PATH, encoder.encode(writeXmlTree(profile)));

  for (const suitePath of suitePaths) {
    const text = appText(files, suitePath);
    if (text === undefined) continue;
    const suite = parseXmlTree(text, { file: suitePath });
    setAttr(suite, 'version', v);
    for (const holder of childElements(suite)) {
      const resource = childElement(holder, 'resource');
      if (!resource || attr(resource, 'version') === undefined) continue;
      const paths = childElements(resource, 'location')
        .map((l) => resourcePath(l.children.filter((c) => typeof c === 'string').join('')))
        .filter((p): p is string => p !== undefined);
      const changed = paths.some((p) => files.has(p) && !sameBytes(files.get(p), previous.get(p)));
      if (changed) setAttr(resource, 'version', v);
    }
    out.set(suitePath, encoder.encode(writeXmlTree(suite)));
  }
  return out;
}

export function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined || a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
