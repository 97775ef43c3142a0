import type { ResourceLocation } from './resource-location.ts';
import type { SuiteText } from './suite-text.ts';

/**
 * The parsed suite, as plain objects (commcare-core `org.commcare.suite.model`: Suite,
 * Menu, Entry, SessionDatum, Detail, DetailField). XPath stays as source text here and is
 * compiled once when the app is loaded.
 */

/** A `<resource>`: what to fetch and from where (local locations first). */
export interface SuiteResource {
  id: string;
  version: string | undefined;
  descriptor: string | undefined;
  locations: ResourceLocation[];
}

/** How a menu or a command shows: its text, an optional badge, icon and audio. */
export interface SuiteDisplay {
  text: SuiteText;
  /** `<text form="badge">` in a `<display>`: a count or short label shown on the item. */
  badge: SuiteText | undefined;
  image: string | undefined;
  audio: string | undefined;
}

/** `<assert test>` with the message shown when the test is false. */
export interface SuiteAssertion {
  test: string;
  text: SuiteText;
}

/** `<instance id src>`: an instance a menu or entry needs (`jr://instance/casedb`). */
export interface InstanceDeclaration {
  id: string;
  src: string;
}

export interface MenuCommand {
  id: string;
  /** Display condition on this command inside this menu. */
  relevant: string | undefined;
}

export interface SuiteMenu {
  id: string;
  /** The menu this one shows under; `root` by default (commcare-core `MenuParser`). */
  root: string;
  /** Display condition of the whole menu. */
  relevant: string | undefined;
  display: SuiteDisplay;
  style: string | undefined;
  commands: MenuCommand[];
  instances: InstanceDeclaration[];
  assertions: SuiteAssertion[];
  /** The suite file it came from. */
  file: string;
}

/**
 * A datum an entry needs before its form opens (commcare-core `SessionDatum` subclasses):
 * a case picked from a list (`EntityDatum`: nodeset, value, details) or a value computed
 * from an expression (`ComputedDatum`, e.g. `uuid()` for a new case id).
 */
export type SessionDatum = EntityDatum | ComputedDatum;

export interface EntityDatum {
  kind: 'entity';
  id: string;
  nodeset: string;
  /** Evaluated on the chosen node for the stored value (`./@case_id`). */
  value: string;
  detailSelect: string | undefined;
  detailConfirm: string | undefined;
  detailPersistent: string | undefined;
  detailInline: string | undefined;
  /** Pick the only case without showing the list (`autoselect="true"`). */
  autoselect: boolean;
  /** `<instance-datum>`: several cases at once (fieldsim lists them but picks one). */
  multiSelect: boolean;
}

export interface ComputedDatum {
  kind: 'computed';
  id: string;
  /** The `function` attribute (`uuid()`, `instance('casedb')/...`). */
  expression: string;
}

/** Suite features fieldsim reads but cannot run; an entry carrying one is marked. */
export type UnsupportedFeature = 'query' | 'remote-request' | 'instance-datum' | 'post';

export interface SuiteEntry {
  /** `<entry>` opens a form; `<view>` shows case details only; `<remote-request>` posts to a server. */
  kind: 'entry' | 'view' | 'remote-request';
  commandId: string;
  /** The form's xmlns (`<form>`), absent for views and remote requests. */
  formXmlns: string | undefined;
  display: SuiteDisplay;
  instances: InstanceDeclaration[];
  datums: SessionDatum[];
  assertions: SuiteAssertion[];
  /** What this entry needs that fieldsim does not do (case search, claim, multi-select). */
  unsupported: UnsupportedFeature[];
  /** Whether a `<stack>` follows the form (read, not run). */
  hasStack: boolean;
  file: string;
}

export type SortType = 'string' | 'int' | 'double' | 'date';

export interface DetailSort {
  type: SortType;
  direction: 'ascending' | 'descending';
  /** 1-based priority; fields without one or with order < 1 do not sort. */
  order: number;
  /** What to sort on; the field's template when absent. */
  text: SuiteText | undefined;
}

export interface DetailField {
  header: SuiteText | undefined;
  template: SuiteText | undefined;
  /** `<template form>`: `image`, `audio`, `phone`, `address`, `graph`, ... ; plain text when absent. */
  templateForm: string | undefined;
  sort: DetailSort | undefined;
  /** `width="0"` on the header: a column HQ adds only to sort or calculate, not shown. */
  hidden: boolean;
}

/** A case-list action (`<action>` in a short detail: "Register a new case"). */
export interface DetailAction {
  display: SuiteDisplay;
  relevant: string | undefined;
  autoLaunch: boolean;
}

export interface SuiteDetail {
  id: string;
  title: SuiteText | undefined;
  /** For a detail over sub-nodes of the chosen entity (`rows/row` of a report). */
  nodeset: string | undefined;
  fields: DetailField[];
  /** `<variables>`: name -> expression, evaluated per entity and visible as `$name`. */
  variables: ReadonlyMap<string, string>;
  /** Tabs of a long detail (nested `<detail>`). */
  details: SuiteDetail[];
  actions: DetailAction[];
  focus: string | undefined;
  file: string;
}

/** `<user-restore>`: the demo user's restore shipped with the app. */
export interface DemoUserRestoreDeclaration {
  resource: SuiteResource;
}

export interface SuiteLocaleDeclaration {
  language: string;
  resource: SuiteResource;
}

export interface ParsedSuite {
  file: string;
  version: string | undefined;
  xforms: SuiteResource[];
  locales: SuiteLocaleDeclaration[];
  details: SuiteDetail[];
  entries: SuiteEntry[];
  menus: SuiteMenu[];
  userRestore: DemoUserRestoreDeclaration | undefined;
}
