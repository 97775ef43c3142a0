import { setOwnProperty } from '../../core/lib/own-property.ts';
import type { CaseIndex } from '../../core/protocol/casexml/case-types.ts';
import type { StoredCase } from '../db/cases.ts';
import { parseDate, parsePhoneDateTime } from './dates.ts';
import type { ParsedCaseBlock } from './parse-form.ts';

/**
 * Errors HQ knows how to report to the phone (`KNOWN_ERRORS`-style list in
 * hq:corehq/form_processor/submission_post.py): the form is saved as an error form and
 * the phone gets 201 submit_error (OpenRosa < 3.0) or 422 processing_failure (3.0).
 */
export type KnownCaseErrorType =
  | 'InvalidCaseIndex'
  | 'IllegalCaseId'
  | 'CaseValueError'
  | 'PhoneDateValueError'
  | 'UsesReferrals'
  | 'MissingProductId';
/** Errors that take HQ's generic path: error form, 500, phone retries. */
export type GenericCaseErrorType = 'CaseGenerationException' | 'VersionNotSupported';

export class CaseProcessingError extends Error {
  override readonly name = 'CaseProcessingError';
  readonly hqType: KnownCaseErrorType | GenericCaseErrorType;
  constructor(hqType: KnownCaseErrorType | GenericCaseErrorType, message: string) {
    super(message);
    this.hqType = hqType;
  }
  get known(): boolean {
    return this.hqType !== 'CaseGenerationException' && this.hqType !== 'VersionNotSupported';
  }
  /** `ExceptionName: text`, as HQ writes the form's problem and the response message. */
  get problem(): string {
    return `${this.hqType}: ${this.message}`;
  }
}

/** CaseXML limits (`CaseValueError` for name/type/owner/external id over 255 chars). */
const MAX_FIELD = 255;

/**
 * Property names never stored as dynamic properties (`RESTRICTED_PROPERTIES`,
 * hq:.../casexml/apps/case/const.py), plus the known properties that map to case fields
 * (hq:corehq/form_processor/backends/sql/update_strategy.py).
 */
const NOT_DYNAMIC = new Set([
  'case_id',
  '@case_id',
  'date_modified',
  'case_type',
  'case_name',
  'date_opened',
  'supply_point_location_id',
  '@xmlns',
  'owner_id',
  'external_id',
  'user_id',
  'location_id',
  'name',
]);

export interface BlockContext {
  formId: string;
  /** Form `meta/userID`: HQ's fallback when a block's `user_id` is empty. */
  formUserId: string;
  /** Receive time (ISO): `guess_modified_on` when a block has no `date_modified`. */
  receivedOn: string;
  now: string;
  domain: string;
}

/** Rejects blocks HQ rejects before applying anything (IllegalCaseId, dates, referrals...). */
export function validateBlock(b: ParsedCaseBlock): void {
  if (b.caseId === undefined)
    throw new CaseProcessingError('CaseGenerationException', 'case block has no case_id');
  if (b.caseId.trim() === '') throw new CaseProcessingError('IllegalCaseId', 'case_id must not be empty');
  if (b.usesReferrals)
    throw new CaseProcessingError('UsesReferrals', 'Sorry, referrals are no longer supported!');
  if (
    b.dateModified !== undefined &&
    b.dateModified.trim() !== '' &&
    parsePhoneDateTime(b.dateModified) === null
  )
    throw new CaseProcessingError('PhoneDateValueError', `${b.dateModified} is not a valid datetime`);
  for (const i of b.index)
    if (i.caseType === undefined && i.target !== '')
      throw new CaseProcessingError('CaseGenerationException', `index ${i.identifier} has no case_type`);
  for (const m of [b.create, b.update]) {
    if (!m) continue;
    for (const key of ['case_name', 'case_type', 'owner_id', 'external_id'])
      if ((m.get(key)?.length ?? 0) > MAX_FIELD)
        throw new CaseProcessingError('CaseValueError', `${key} is longer than ${MAX_FIELD} characters`);
    const opened = m.get('date_opened');
    if (opened !== undefined && opened.trim() !== '' && parseDate(opened) === null)
      throw new CaseProcessingError('CaseValueError', `date_opened ${opened} is not a valid date`);
  }
}

export function blockDate(b: ParsedCaseBlock, ctx: BlockContext): string {
  const d = b.dateModified?.trim();
  return (d ? parsePhoneDateTime(d) : null) ?? ctx.receivedOn;
}

export function newCase(caseId: string, ctx: BlockContext): StoredCase {
  return {
    caseId,
    domain: ctx.domain,
    caseType: '',
    name: '',
    ownerId: '',
    closed: false,
    deleted: false,
    openedOn: null,
    openedBy: '',
    closedOn: null,
    closedBy: '',
    modifiedOn: '',
    serverModifiedOn: ctx.now,
    serverOpenedOn: ctx.now,
    userId: '',
    externalId: '',
    locationId: '',
    properties: {},
    indices: [],
    attachments: [],
    xformIds: [],
    indexedOn: ctx.now,
  };
}

function setKnown(c: StoredCase, key: string, value: string): boolean {
  switch (key) {
    case 'case_type':
      c.caseType = value;
      return true;
    case 'case_name':
    case 'name':
      c.name = value;
      return true;
    case 'owner_id':
      c.ownerId = value;
      return true;
    case 'external_id':
      c.externalId = value;
      return true;
    case 'date_opened': {
      const d = parseDate(value);
      if (d !== null) c.openedOn = `${d}T00:00:00.000Z`;
      return true;
    }
    case 'location_id':
      c.locationId = value;
      return true;
    case 'hq_user_id':
      c.externalId = value;
      return false;
    default:
      return NOT_DYNAMIC.has(key);
  }
}

/**
 * Applies one block in HQ's fixed action order — create, update, close, index, attachment
 * (`CaseUpdate.__init__`, hq:.../casexml/apps/case/xml/parser.py) — regardless of document
 * order. An update to an unknown case creates it (`_apply_case_update`): `opened_on` and
 * `opened_by` come from the block, an empty owner falls back to the block's user.
 */
export function applyBlock(c: StoredCase, b: ParsedCaseBlock, ctx: BlockContext): void {
  const date = blockDate(b, ctx);
  const user = b.userId?.trim() || ctx.formUserId;
  const isNew = c.modifiedOn === '';
  if (isNew) {
    c.openedOn = date;
    c.openedBy = user;
  }
  if (b.create) for (const [k, v] of b.create) setKnown(c, k, v);
  if (b.update) {
    for (const [k, v] of b.update) {
      if (!setKnown(c, k, v)) setOwnProperty(c.properties, k, v);
    }
  }
  if (b.close) {
    c.closed = true;
    c.closedOn = date;
    c.closedBy = user;
  }
  for (const i of b.index) {
    const at = c.indices.findIndex((x) => x.identifier === i.identifier);
    // Empty text removes the index; HQ ignores removals of unknown identifiers.
    if (i.target === '') {
      if (at >= 0) c.indices.splice(at, 1);
      continue;
    }
    const idx: CaseIndex = {
      identifier: i.identifier,
      caseType: i.caseType ?? '',
      caseId: i.target,
      relationship: i.relationship === 'extension' ? 'extension' : 'child',
    };
    if (at >= 0) c.indices[at] = idx;
    else c.indices.push(idx);
  }
  if (b.attachment) {
    for (const a of b.attachment) {
      const at = c.attachments.findIndex((x) => x.name === a.name);
      if (a.src === undefined && a.from === undefined) {
        if (at >= 0) c.attachments.splice(at, 1);
        continue;
      }
      if (at >= 0) c.attachments[at] = a;
      else c.attachments.push(a);
    }
  }
  if (c.modifiedOn === '' || date > c.modifiedOn) c.modifiedOn = date;
  c.userId = user;
  if (c.ownerId === '') c.ownerId = user;
  if (!c.xformIds.includes(ctx.formId)) c.xformIds.push(ctx.formId);
  c.serverModifiedOn = ctx.now;
  c.indexedOn = ctx.now;
}

/**
 * Groups blocks by case (first appearance order) and sorts each case's blocks by their
 * lowest-ranked action, stably (`get_case_updates` / `order_updates`,
 * hq:.../casexml/apps/case/xform.py): a create block goes first even if listed later.
 */
export function groupBlocks(blocks: ParsedCaseBlock[]): Map<string, ParsedCaseBlock[]> {
  const byCase = new Map<string, ParsedCaseBlock[]>();
  for (const b of blocks) {
    const id = b.caseId ?? '';
    const list = byCase.get(id);
    if (list) list.push(b);
    else byCase.set(id, [b]);
  }
  for (const list of byCase.values()) list.sort((a, b) => a.rank - b.rank);
  return byCase;
}

/** After all blocks are applied every index target must exist (PROTOCOL.md 8). */
export function checkIndices(
  touched: Iterable<StoredCase>,
  exists: (caseId: string) => boolean,
  pending: Map<string, StoredCase>,
): void {
  for (const c of touched) {
    for (const i of c.indices) {
      if (!pending.has(i.caseId) && !exists(i.caseId))
        throw new CaseProcessingError(
          'InvalidCaseIndex',
          `Case '${c.caseId}' references non-existent case '${i.caseId}'`,
        );
    }
  }
}
