/**
 * Plain records for CaseXML 2.0 (PROTOCOL.md section 4). Parsers on both sides (the
 * phone-side restore parser and the emulator's receiver) produce `CaseBlock`s; the
 * local database stores `CaseRecord`s.
 */

/**
 * `child` and `extension` are the two HQ sends and the purge knows; the phone stores any
 * other non-empty relationship as given (core: CaseXmlParser.java reads the attribute
 * as is), and its purge treats those like `child` (only `extension` is special).
 */
export type IndexRelationship = 'child' | 'extension' | (string & {});

export interface CaseIndex {
  /** The index identifier: the element name inside `<index>` (`parent`, `host`, ...). */
  identifier: string;
  caseType: string;
  /** The case this index points at. */
  caseId: string;
  relationship: IndexRelationship;
}

export interface CaseAttachment {
  name: string;
  src?: string;
  from?: string;
  /** Optional `name` attribute (a file name distinct from the attachment id). */
  fileName?: string;
}

/** A case as the phone holds it (casedb view, PROTOCOL.md section 4.5). */
export interface CaseRecord {
  caseId: string;
  caseType: string;
  caseName: string;
  ownerId: string;
  closed: boolean;
  /** `YYYY-MM-DD` or empty. */
  dateOpened: string;
  /** The block's `date_modified` of the last change, as sent. */
  lastModified: string;
  /** Last modifier (`user_id` attribute). */
  userId: string;
  externalId: string;
  properties: Record<string, string>;
  indices: CaseIndex[];
  attachments: CaseAttachment[];
}

/** One action of a `<case>` block, in document order. */
export type CaseAction =
  | { kind: 'create'; caseType?: string; caseName?: string; ownerId?: string }
  | { kind: 'update'; fields: [name: string, value: string][] }
  | { kind: 'close' }
  | { kind: 'index'; entries: IndexEntry[] }
  | { kind: 'attachment'; entries: AttachmentEntry[] };

export interface IndexEntry {
  identifier: string;
  caseType: string;
  /** Empty string removes the index with this identifier. */
  target: string;
  /** Absent attribute is `undefined` (means child); `''` is kept so the rules can reject it. */
  relationship?: string;
}

export interface AttachmentEntry {
  name: string;
  src?: string;
  from?: string;
  fileName?: string;
}

export interface CaseBlock {
  caseId: string;
  dateModified?: string;
  userId?: string;
  actions: CaseAction[];
}
