import { FieldsimError } from '../errors/fieldsim-error.ts';
import { XFormError } from '../errors/xform-error.ts';
import type { XPathNode } from '../xforms/tree/instance-node.ts';
import type { XPathValue } from '../xforms/xpath/xpath-types.ts';
import type { CommCareApp } from './commcare-app.ts';
import { entityDatum } from './compute-datum.ts';
import {
  displayText,
  evaluateBoolean,
  evaluateNodes,
  evaluateString,
  inSuite,
  makeScope,
  type SuiteContext,
  type SuiteScope,
} from './suite-context.ts';
import type { DetailField, EntityDatum, SortType, SuiteDetail, SuiteEntry } from './suite-model.ts';
import type { SuiteText } from './suite-text.ts';

export interface CaseListColumn {
  header: string;
  /** Sort-only or calculation columns HQ hides (`width="0"`); kept so cells line up. */
  hidden: boolean;
  /** `<template form>` (`image`, `phone`, ...), undefined for text. */
  form: string | undefined;
}

export interface CaseListRow {
  /** The datum's `value` on this entity (the case id for case lists). */
  caseId: string;
  cells: string[];
}

export interface CaseList {
  title: string;
  columns: CaseListColumn[];
  rows: CaseListRow[];
}

/**
 * The case list for an entry's case-selection datum, as the phone builds it
 * (commcare-core `EntityDatum` + `NodeEntityFactory`, formplayer `EntityListResponse`):
 * the datum's nodeset over the entry's instances, each entity's cells from the short
 * detail's field templates with the entity as context node, then sorted by the fields
 * that carry `<sort>`.
 */
export function caseList(app: CommCareApp, entry: SuiteEntry, datumId: string, ctx: SuiteContext): CaseList {
  const datum = entityDatum(entry, datumId);
  const detail = detailFor(app, entry, datum, datum.detailSelect, 'detail-select');
  const scope = makeScope(app, ctx, entry.instances);
  const nodes = inSuite(`nodeset of datum ${datum.id}`, entry.file, () =>
    evaluateNodes(scope, datum.nodeset),
  );
  const order = sortingFields(detail);
  const rows = nodes.map((node) => {
    const vars = detailVariables(scope, detail, node);
    const cells = detail.fields.map((f) => fieldValue(scope, detail, f, node, vars));
    return {
      caseId: inSuite(`value of datum ${datum.id}`, entry.file, () =>
        evaluateString(scope, datum.value, node),
      ),
      cells,
      sortKeys: sortKeys(scope, detail, order, node, vars, cells),
    };
  });
  const indexed = rows.map((r, i) => ({ r, i }));
  indexed.sort((a, b) => {
    for (let k = 0; k < order.length; k++) {
      const f = order[k];
      if (!f?.sort) continue;
      const c = compareSortValues(
        a.r.sortKeys[k] ?? '',
        b.r.sortKeys[k] ?? '',
        f.sort.type,
        f.sort.direction,
      );
      if (c !== 0) return c;
    }
    return a.i - b.i;
  });
  return {
    title: detail.title
      ? inSuite(`title of detail ${detail.id}`, detail.file, () =>
          displayText(scope, detail.title ?? { kind: 'flat', value: '' }),
        )
      : '',
    columns: detail.fields.map((f) => ({
      header: f.header
        ? inSuite(`header in detail ${detail.id}`, detail.file, () =>
            displayText(scope, f.header ?? { kind: 'flat', value: '' }),
          )
        : '',
      hidden: f.hidden,
      form: f.templateForm,
    })),
    rows: indexed.map(({ r }) => ({ caseId: r.caseId, cells: r.cells })),
  };
}

/** One tab of a case detail: headers and one row (or one row per sub-node). */
export interface CaseDetailTab {
  title: string;
  headers: string[];
  rows: string[][];
}

export interface CaseDetail {
  caseId: string;
  tabs: CaseDetailTab[];
}

/**
 * The long (confirm) detail of one entity of the datum's list: one tab per nested
 * `<detail>` or the detail itself; a tab with a `nodeset` lists the chosen entity's
 * sub-nodes (commcare-core `EntitySubnodeDetailTest`: `rows/row` of a report).
 */
export function caseDetail(
  app: CommCareApp,
  entry: SuiteEntry,
  datumId: string,
  caseId: string,
  ctx: SuiteContext,
): CaseDetail {
  const datum = entityDatum(entry, datumId);
  const detail = detailFor(app, entry, datum, datum.detailConfirm ?? datum.detailSelect, 'detail-confirm');
  const scope = makeScope(app, ctx, entry.instances);
  const nodes = inSuite(`nodeset of datum ${datum.id}`, entry.file, () =>
    evaluateNodes(scope, datum.nodeset),
  );
  const node = nodes.find((n) => evaluateString(scope, datum.value, n) === caseId);
  if (!node)
    throw new FieldsimError(
      'invalid-argument',
      `Datum ${datum.id} of ${entry.commandId} lists no entity ${caseId}`,
    );
  const tabs = (detail.details.length > 0 ? detail.details : [detail]).map((d) => detailTab(scope, d, node));
  return { caseId, tabs };
}

function detailTab(scope: SuiteScope, detail: SuiteDetail, entity: XPathNode): CaseDetailTab {
  const title = detail.title ? displayText(scope, detail.title) : '';
  const headers = detail.fields.map((f) => (f.header ? displayText(scope, f.header, entity) : ''));
  const nodeset = detail.nodeset;
  const targets =
    nodeset === undefined
      ? [entity]
      : inSuite(`nodeset of detail ${detail.id}`, detail.file, () => evaluateNodes(scope, nodeset, entity));
  const rows = targets.map((n) => {
    const vars = detailVariables(scope, detail, n);
    return detail.fields.map((f) => fieldValue(scope, detail, f, n, vars));
  });
  return { title, headers, rows };
}

function detailFor(
  app: CommCareApp,
  entry: SuiteEntry,
  datum: EntityDatum,
  id: string | undefined,
  attrName: string,
): SuiteDetail {
  if (id === undefined)
    throw new XFormError(
      'app-invalid',
      `${entry.file}: datum ${datum.id} of ${entry.commandId} has no ${attrName}`,
      {
        file: entry.file,
        ref: datum.id,
      },
    );
  const d = app.details.get(id);
  if (!d)
    throw new XFormError('app-invalid', `${entry.file}: detail ${id} is not in the suite`, {
      file: entry.file,
      ref: id,
    });
  return d;
}

/** A detail's `<variables>`, each evaluated on the entity and visible to later ones. */
function detailVariables(scope: SuiteScope, detail: SuiteDetail, node: XPathNode): Map<string, XPathValue> {
  const vars = new Map<string, XPathValue>();
  for (const [name, expr] of detail.variables) {
    vars.set(
      name,
      inSuite(`variable ${name} of detail ${detail.id}`, detail.file, () =>
        evaluateString(scope, expr, node, vars),
      ),
    );
  }
  return vars;
}

function fieldValue(
  scope: SuiteScope,
  detail: SuiteDetail,
  field: DetailField,
  node: XPathNode,
  vars: ReadonlyMap<string, XPathValue>,
): string {
  const t = field.template;
  if (!t) return '';
  return inSuite(`template in detail ${detail.id}`, detail.file, () => displayText(scope, t, node, vars));
}

/** Fields that sort, by their `order` (1 first); fields without an order do not sort. */
function sortingFields(detail: SuiteDetail): DetailField[] {
  return detail.fields
    .filter((f) => f.sort !== undefined && f.sort.order >= 1)
    .sort((a, b) => (a.sort?.order ?? 0) - (b.sort?.order ?? 0));
}

function sortKeys(
  scope: SuiteScope,
  detail: SuiteDetail,
  order: readonly DetailField[],
  node: XPathNode,
  vars: ReadonlyMap<string, XPathValue>,
  cells: readonly string[],
): string[] {
  return order.map((f) => {
    // HQ repeats the column's own expression as its sort text; reuse the cell then.
    const t = f.sort?.text;
    if (t === undefined || sameText(t, f.template)) return cells[detail.fields.indexOf(f)] ?? '';
    return inSuite(`sort in detail ${detail.id}`, detail.file, () => displayText(scope, t, node, vars));
  });
}

function sameText(a: SuiteText, b: SuiteText | undefined): boolean {
  if (b === undefined) return false;
  if (a.kind === 'xpath' && b.kind === 'xpath')
    return a.expression === b.expression && a.variables.size === 0 && b.variables.size === 0;
  if (a.kind === 'flat' && b.kind === 'flat') return a.value === b.value;
  return false;
}

/**
 * Compares two sort values by the field's type. Blank values (and numbers or dates that
 * do not parse) go after every real value whichever the direction, so a descending list
 * does not open on empty rows (commcare-core `EntitySorter`, which treats unparseable
 * sort values as missing and places them last).
 */
export function compareSortValues(
  a: string,
  b: string,
  type: SortType,
  direction: 'ascending' | 'descending',
): number {
  const ka = sortValue(a, type);
  const kb = sortValue(b, type);
  if (ka === undefined || kb === undefined) {
    if (ka === undefined && kb === undefined) return 0;
    return ka === undefined ? 1 : -1;
  }
  let c: number;
  if (typeof ka === 'number' && typeof kb === 'number') c = ka - kb;
  else {
    const sa = String(ka);
    const sb = String(kb);
    c = sa < sb ? -1 : sa > sb ? 1 : 0;
  }
  return direction === 'descending' ? -c : c;
}

function sortValue(raw: string, type: SortType): string | number | undefined {
  const s = raw.trim();
  if (s === '') return undefined;
  switch (type) {
    case 'int':
    case 'double': {
      const n = Number(s);
      return Number.isFinite(n) ? (type === 'int' ? Math.trunc(n) : n) : undefined;
    }
    case 'date': {
      const ms = Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s);
      return Number.isNaN(ms) ? undefined : ms;
    }
    case 'string':
      return s.toLowerCase();
  }
}

/** A case-list action as shown: its text and whether the phone opens it at once. */
export interface CaseListAction {
  text: string;
  autoLaunch: boolean;
}

/**
 * The actions a case list offers ("Register a new case"), those whose `relevant` holds,
 * in suite order (commcare-core `Detail.getCustomActions`). fieldsim shows them; running
 * their `<stack>` is left to the session layer.
 */
export function caseListActions(
  app: CommCareApp,
  entry: SuiteEntry,
  datumId: string,
  ctx: SuiteContext,
): CaseListAction[] {
  const datum = entityDatum(entry, datumId);
  const detail = detailFor(app, entry, datum, datum.detailSelect, 'detail-select');
  const scope = makeScope(app, ctx, entry.instances);
  const out: CaseListAction[] = [];
  for (const a of detail.actions) {
    const rel = a.relevant;
    if (
      rel !== undefined &&
      !inSuite(`action condition in detail ${detail.id}`, detail.file, () => evaluateBoolean(scope, rel))
    )
      continue;
    out.push({
      text: inSuite(`action text in detail ${detail.id}`, detail.file, () =>
        displayText(scope, a.display.text),
      ),
      autoLaunch: a.autoLaunch,
    });
  }
  return out;
}
