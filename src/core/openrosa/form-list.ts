import { XmlError } from '../errors/xml-error.ts';
import {
  childElement,
  childElements,
  parseXmlTree,
  textContent,
  type XmlElement,
} from '../protocol/xml-tree.ts';

/**
 * The OpenRosa Form List API's answer (`<xforms xmlns="http://openrosa.org/xforms/xformsList">`,
 * docs.getodk.org/openrosa-form-list) and the Form Manifest
 * (`<manifest xmlns="http://openrosa.org/xforms/xformsManifest">`). ODK Central, Aggregate
 * and Kobo write both; `manifestUrl` is only there when the form has media.
 */
export interface FormListEntry {
  formId: string;
  name: string;
  /** Optional in the spec (Central writes an empty element for a form without one). */
  version?: string;
  /** `md5:<hex>` of the form definition, as the spec requires. */
  hash?: string;
  downloadUrl: string;
  manifestUrl?: string;
}

export interface ManifestFile {
  filename: string;
  hash?: string;
  downloadUrl: string;
}

const FORM_LIST_NS = 'http://openrosa.org/xforms/xformsList';
const MANIFEST_NS = 'http://openrosa.org/xforms/xformsManifest';

function rootOf(xml: string, local: string, ns: string, what: string): XmlElement {
  let root: XmlElement;
  try {
    root = parseXmlTree(xml);
  } catch (cause) {
    throw new XmlError('xml-malformed', `The ${what} is not well-formed XML (a login page?)`, { cause });
  }
  // A root without the namespace is read too (older servers drop it); another is refused.
  if (root.local !== local || (root.uri !== ns && root.uri !== ''))
    throw new XmlError(
      'xml-invalid',
      `The ${what} has no <${local} xmlns="${ns}"> root (found <${root.name}>)`,
    );
  return root;
}

function text(el: XmlElement, local: string): string | undefined {
  const c = childElement(el, local);
  if (c === undefined) return undefined;
  const t = textContent(c).trim();
  return t === '' ? undefined : t;
}

export function parseFormList(xml: string): FormListEntry[] {
  const root = rootOf(xml, 'xforms', FORM_LIST_NS, 'form list');
  return childElements(root, 'xform').map((x, i) => {
    const formId = text(x, 'formID');
    const downloadUrl = text(x, 'downloadUrl');
    if (formId === undefined || downloadUrl === undefined)
      throw new XmlError('xml-invalid', `Form list entry ${i + 1} has no formID or downloadUrl`, {
        path: `xforms/xform[${i + 1}]`,
      });
    const out: FormListEntry = { formId, name: text(x, 'name') ?? formId, downloadUrl };
    const version = text(x, 'version');
    const hash = text(x, 'hash');
    const manifestUrl = text(x, 'manifestUrl');
    if (version !== undefined) out.version = version;
    if (hash !== undefined) out.hash = hash;
    if (manifestUrl !== undefined) out.manifestUrl = manifestUrl;
    return out;
  });
}

export function parseManifest(xml: string): ManifestFile[] {
  const root = rootOf(xml, 'manifest', MANIFEST_NS, 'form manifest');
  return childElements(root, 'mediaFile').map((m, i) => {
    const filename = text(m, 'filename');
    const downloadUrl = text(m, 'downloadUrl');
    if (filename === undefined || downloadUrl === undefined)
      throw new XmlError('xml-invalid', `Manifest entry ${i + 1} has no filename or downloadUrl`, {
        path: `manifest/mediaFile[${i + 1}]`,
      });
    const hash = text(m, 'hash');
    return hash === undefined ? { filename, downloadUrl } : { filename, hash, downloadUrl };
  });
}
