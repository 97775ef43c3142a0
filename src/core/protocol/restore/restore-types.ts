import type { CaseBlock } from '../casexml/case-types.ts';

/** The user as the restore's `<Registration>` block describes them. */
export interface RegistrationRecord {
  username: string;
  /** The server's password hash. Kept as sent; fieldsim never uses it to log in. */
  passwordHash: string;
  uuid: string;
  date: string;
  userData: Record<string, string>;
}

/** A generic XML element tree, for fixtures. Attribute and text values are strings. */
export interface XmlNode {
  name: string;
  attributes: Record<string, string>;
  children: XmlNode[];
  text: string;
}

export interface FixtureRecord {
  id: string;
  userId: string;
  indexed: boolean;
  /** The single root element inside `<fixture>`. */
  root: XmlNode;
}

export interface FixtureSchema {
  id: string;
  /** Index expressions: `@attr` or `childName`. */
  indices: string[];
}

export interface LedgerBalance {
  entityId: string;
  sectionId: string;
  date: string;
  entries: { id: string; quantity: number }[];
}

/** What the restore parser reports, in document order. */
export type RestoreEvent =
  | { kind: 'items'; count: number }
  | { kind: 'sync'; restoreId: string }
  | { kind: 'registration'; registration: RegistrationRecord }
  | { kind: 'schema'; schema: FixtureSchema }
  | { kind: 'fixture'; fixture: FixtureRecord }
  | { kind: 'case'; block: CaseBlock }
  | { kind: 'ledger'; balance: LedgerBalance };
