import { formatApiDateTime, formatApiDateTimeUtc } from '../casexml/dates.ts';
import type { XNode } from '../casexml/xml-tree.ts';
import type { StoredCase } from './cases.ts';
import type { Db } from './database.ts';
import { userBaseJson, webUserPermissions } from './serialize.ts';
import { type GroupRow, groupMembers, groupsOfUser, type UserRow } from './users.ts';

/** `v0_5.CommCareUserResource` (PROTOCOL.md 9.4; schemas/user.yaml `MobileWorker`). */
export function mobileWorkerJson(db: Db, domain: string, u: UserRow): Record<string, unknown> {
  const locations = JSON.parse(u.location_ids) as string[];
  const data = JSON.parse(u.user_data) as Record<string, string>;
  return {
    ...userBaseJson(u),
    groups: groupsOfUser(db, u.id).map((g) => g.id),
    primary_location: u.primary_location,
    locations,
    user_data: {
      ...data,
      commcare_project: domain,
      ...(locations.length > 0
        ? {
            commcare_location_id: u.primary_location ?? locations[0],
            commcare_location_ids: locations.join(' '),
          }
        : {}),
    },
    language: u.language,
    is_active: u.is_active === 1,
    eulas: '[]',
    resource_uri: `/a/${domain}/api/v0.5/user/${u.id}/`,
  };
}

export function webUserJson(domain: string, u: UserRow): Record<string, unknown> {
  return {
    ...userBaseJson(u),
    role: u.role,
    permissions: webUserPermissions(u),
    is_admin: u.is_admin === 1,
    is_active_in_domain: u.is_active === 1,
    eulas: '[]',
    resource_uri: `/a/${domain}/api/v0.5/web-user/${u.id}/`,
    // The location, profile, custom data and Tableau fields of v0_5.WebUserResource
    // (hq:docs/api/openapi/components/schemas/user.yaml `WebUser`): primary_location_id is
    // "" when unset, tableau_role null without a Tableau user.
    primary_location_id: u.primary_location ?? '',
    assigned_location_ids: JSON.parse(u.location_ids) as string[],
    profile: u.profile,
    user_data: JSON.parse(u.user_data) as Record<string, unknown>,
    tableau_role: u.tableau_role,
  };
}

export function groupJson(db: Db, g: GroupRow): Record<string, unknown> {
  return {
    id: g.id,
    domain: g.domain,
    name: g.name,
    case_sharing: g.case_sharing === 1,
    reporting: g.reporting === 1,
    users: groupMembers(db, g.id),
    metadata: JSON.parse(g.metadata) as Record<string, string>,
    resource_uri: `/a/${g.domain}/api/v0.5/group/${g.id}/`,
  };
}

/** `v0_4.CommCareCaseResource` (PROTOCOL.md 9.2; schemas/case.yaml). Dates are naive. */
export function caseJson(c: StoredCase): Record<string, unknown> {
  const indices: Record<string, unknown> = {};
  for (const i of c.indices)
    indices[i.identifier] = { case_type: i.caseType, case_id: i.caseId, relationship: i.relationship };
  return {
    id: c.caseId,
    case_id: c.caseId,
    domain: c.domain,
    user_id: c.userId,
    date_modified: formatApiDateTime(c.modifiedOn),
    closed: c.closed,
    date_closed: formatApiDateTime(c.closedOn),
    server_date_modified: formatApiDateTime(c.serverModifiedOn),
    server_date_opened: formatApiDateTime(c.serverOpenedOn),
    // json_format_datetime on HQ: a `Z`, unlike the naive dates around it (case.yaml).
    indexed_on: formatApiDateTimeUtc(c.indexedOn),
    opened_by: c.openedBy,
    closed_by: c.closedBy || null,
    xform_ids: c.xformIds,
    properties: {
      ...c.properties,
      case_name: c.name,
      case_type: c.caseType,
      date_opened: formatApiDateTime(c.openedOn),
      external_id: c.externalId,
      owner_id: c.ownerId,
    },
    indices,
    resource_uri: `/a/${c.domain}/api/v0.5/case/${c.caseId}/`,
  };
}

/**
 * The form as JSON in HQ's `xml2json` shape: attributes as `@name`, the root's tag as
 * `#type`, text as `#text` next to attributes (or the bare string), repeats as arrays.
 */
export function xmlToJson(root: XNode): Record<string, unknown> {
  const convert = (n: XNode, parentNs: string): unknown => {
    const attrs = Object.entries(n.attrs);
    const withNs = n.ns !== '' && n.ns !== parentNs;
    if (n.children.length === 0 && attrs.length === 0 && !withNs) return n.text.trim() === '' ? '' : n.text;
    const o: Record<string, unknown> = {};
    for (const [k, v] of attrs) o[`@${k}`] = v;
    if (withNs) o['@xmlns'] = n.ns;
    for (const ch of n.children) {
      const v = convert(ch, n.ns);
      const prev = o[ch.local];
      if (prev === undefined) o[ch.local] = v;
      else if (Array.isArray(prev)) prev.push(v);
      else o[ch.local] = [prev, v];
    }
    if (n.text.trim() !== '') o['#text'] = n.text;
    return o;
  };
  const body = convert(root, '') as Record<string, unknown>;
  return { '#type': root.local, ...(typeof body === 'object' ? body : {}) };
}
