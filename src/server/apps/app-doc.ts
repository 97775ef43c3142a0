/**
 * An application in the shape of HQ's Application Structure API (`ApplicationResource`,
 * hq:corehq/apps/api/resources/v0_4.py; PROTOCOL.md 9.5), as the emulator stores and
 * serves it. Form `xmlns` values are what submissions use as their root xmlns.
 */
export interface AppQuestion {
  label: string;
  tag: string;
  /** The node's path in the form instance (`/data/household_size`). */
  value: string;
  /** HQ's question type (`Text`, `Int`, `Select`, `MSelect`, `Date`, `Repeat`, ...). */
  type: string;
  required?: boolean;
  options?: { label: string; value: string; translations?: Record<string, string> }[];
  /** The label by language, as `get_questions(..., include_translations=True)` adds it. */
  translations?: Record<string, string>;
  /** The enclosing repeat's and group's paths, the bind's expressions (imported apps). */
  repeat?: string;
  group?: string;
  relevant?: string;
  constraint?: string;
  calculate?: string;
}

export interface AppForm {
  xmlns: string;
  name: Record<string, string>;
  unique_id: string;
  /**
   * What the form does to cases: fieldsim's own hint for the PWA's generic forms and the
   * QA runner, set for the demo app only (HQ sends no such field).
   */
  action?: 'register' | 'register-child' | 'update' | 'close';
  questions: AppQuestion[];
}

export interface AppModule {
  name: Record<string, string>;
  case_type: string;
  case_properties: string[];
  unique_id: string;
  forms: AppForm[];
}

export interface AppDoc {
  id: string;
  name: string;
  version: number;
  is_released: boolean;
  built_on: string;
  build_comment: string;
  built_from_app_id: string | null;
  modules: AppModule[];
  versions: { id: string; built_on: string; build_comment: string; is_released: boolean; version: number }[];
}
