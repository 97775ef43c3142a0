import {
  attr,
  childElements,
  parseXmlTree,
  textContent,
  type XmlElement,
} from '../../core/protocol/xml-tree.ts';
import { resourcePath } from './resource-path.ts';
import { writeXmlTree } from './write-xml-tree.ts';

export interface ServedAppPlace {
  /** This server's origin as the client reached it (`http://127.0.0.1:8000`). */
  origin: string;
  domain: string;
  appId: string;
}

/** `<origin>/a/<domain>/apps/download/<app_id>/`: where the app's files are served. */
export function downloadBase(p: ServedAppPlace): string {
  return `${p.origin}/a/${encodeURIComponent(p.domain)}/apps/download/${encodeURIComponent(p.appId)}/`;
}

/**
 * Profile properties that point a phone at its server (HQ's profile template,
 * hq:corehq/apps/app_manager/templates/app_manager/profile.xml): restore, submission and
 * the user's domain. An imported app keeps its own HQ's URLs there; served from the
 * emulator they must name the emulator and the project the app was imported into.
 */
function serverProperty(key: string, p: ServedAppPlace): string | undefined {
  const a = `${p.origin}/a/${encodeURIComponent(p.domain)}`;
  switch (key) {
    case 'ota-restore-url':
    case 'ota-restore-url-testing':
      return `${a}/phone/restore/${encodeURIComponent(p.appId)}/`;
    case 'PostURL':
    case 'PostTestURL':
      return `${a}/receiver/${encodeURIComponent(p.appId)}/`;
    case 'cc_user_domain':
      return `${p.domain}.commcarehq.org`;
    default:
      return undefined;
  }
}

/**
 * The profile as this server hands it to a phone: the `update` URL and every remote
 * `<location>` that names an app file point at this server's download folder for the app
 * (a relative one like `./suite.xml` too), and the restore/submission properties at this
 * server, so a client that installs from here keeps talking to here. Local locations and
 * URLs outside the app (multimedia on HQ) are left as they are.
 */
export function rewriteProfile(xml: string, place: ServedAppPlace): string {
  const root = parseXmlTree(xml, { file: 'profile.ccpr' });
  const base = downloadBase(place);
  const update = root.attrs.find((a) => a.name === 'update');
  const updateValue = `${base}profile.ccpr?latest=true`;
  if (update) update.value = updateValue;
  else root.attrs.push({ name: 'update', local: 'update', prefix: '', uri: '', value: updateValue });
  for (const prop of childElements(root, 'property')) {
    const value = serverProperty(attr(prop, 'key') ?? '', place);
    const a = prop.attrs.find((x) => x.name === 'value');
    if (value !== undefined && a) a.value = value;
  }
  for (const suite of childElements(root, 'suite'))
    for (const resource of childElements(suite, 'resource')) rewriteLocations(resource, base);
  return writeXmlTree(root);
}

function rewriteLocations(resource: XmlElement, base: string): void {
  for (const loc of childElements(resource, 'location')) {
    if (attr(loc, 'authority') !== 'remote') continue;
    const path = resourcePath(textContent(loc));
    if (path !== undefined) loc.children = [`${base}${path}`];
  }
}
