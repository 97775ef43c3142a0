import type { AttachmentEntry, IndexEntry } from './case-types.ts';

/** One child of an `<index>` or `<attachment>` action, whatever tree it was read from. */
export interface ActionField {
  name: string;
  attrs: Readonly<Record<string, string | undefined>>;
  text: string;
}

/**
 * `<index><parent case_type="t" relationship="child">id</parent></index>`: one entry per
 * child, named by its element (core: CaseXmlParser.java reads the index the same way for
 * restores and submissions, so both readers share this).
 */
export function indexEntries(fields: readonly ActionField[]): IndexEntry[] {
  return fields.map((f) => {
    const e: IndexEntry = { identifier: f.name, caseType: f.attrs.case_type ?? '', target: f.text.trim() };
    const rel = f.attrs.relationship;
    if (rel !== undefined) e.relationship = rel;
    return e;
  });
}

/** `<attachment><photo src=".." from="local" name="a.jpg"/></attachment>`: one entry per child. */
export function attachmentEntries(fields: readonly ActionField[]): AttachmentEntry[] {
  return fields.map((f) => {
    const e: AttachmentEntry = { name: f.name };
    if (f.attrs.src !== undefined) e.src = f.attrs.src;
    if (f.attrs.from !== undefined) e.from = f.attrs.from;
    if (f.attrs.name !== undefined) e.fileName = f.attrs.name;
    return e;
  });
}
