import type { CaseBlock } from '../casexml/case-types.ts';

/**
 * The OpenRosa meta block (PROTOCOL.md 6). Values are written as given; the session fills
 * them from its clock, user and device. Times are XSD dateTimes (`2026-01-02T03:04:05.678Z`).
 */
export interface FormMeta {
  deviceId: string;
  timeStart: string;
  timeEnd: string;
  username: string;
  userId: string;
  /** A bare v4 UUID. The composer adds the `uuid:` prefix in ODK mode only. */
  instanceId: string;
  /** `cc:appVersion`; written empty when unknown, as HQ-built forms do. */
  appVersion?: string;
  /** `orx:drift`; written empty when unknown. */
  drift?: string;
  /** Optional geo point `lat lon alt accuracy`, written as `cc:location`. */
  location?: string;
}

/** One node of the answer tree. A repeat is the same group name appearing several times. */
export type FormNode =
  | { name: string; value: string; attributes?: Record<string, string> }
  | { name: string; children: FormNode[]; attributes?: Record<string, string> }
  /** A CaseXML 2.0 block at this position; `dateModified`/`userId` default to timeEnd/userID. */
  | { caseBlock: CaseBlock };

/**
 * A form as the app or a builder describes it, before meta is attached.
 * `mode: 'odk'` writes the ODK Central/Aggregate conventions (root `id`/`version`
 * attributes, `uuid:`-prefixed instanceID) instead of CommCare's.
 */
export interface FormDraft {
  xmlns: string;
  /** Root element name (HQ-built forms use `data`). */
  rootName?: string;
  /** `name` attribute: the form's display name. */
  name?: string;
  version?: string;
  uiVersion?: string;
  mode?: 'commcare' | 'odk';
  /** ODK form id (root `id` attribute), ODK mode only. */
  formId?: string;
  children: FormNode[];
}

export interface FormSpec extends FormDraft {
  meta: FormMeta;
}

export interface ComposedForm {
  xml: string;
  /** The instanceID exactly as written in the XML (with `uuid:` in ODK mode). */
  instanceId: string;
  xmlns: string;
  formName: string;
  /** The case blocks as written (defaults filled), in document order: what to apply locally. */
  caseBlocks: CaseBlock[];
  /** UTF-8 size of `xml` in bytes. */
  size: number;
}
