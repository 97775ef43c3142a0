import type { Db } from './database.ts';
import { canEditCommCareUsers, groupsOfUser, type UserRow } from './users.ts';

/** The fields every HQ user resource starts with (sso.yaml, user.yaml): names, email, phones. */
export function userBaseJson(u: UserRow): Record<string, unknown> {
  const phones = JSON.parse(u.phone_numbers) as string[];
  return {
    id: u.id,
    username: u.username,
    first_name: u.first_name,
    last_name: u.last_name,
    default_phone_number: phones[0] ?? null,
    email: u.email,
    phone_numbers: phones,
  };
}

/** `v0_1.CommCareUserResource` as the SSO endpoint dehydrates a mobile worker (sso.yaml). */
export function ssoMobileWorker(db: Db, u: UserRow): Record<string, unknown> {
  return {
    ...userBaseJson(u),
    groups: groupsOfUser(db, u.id).map((g) => g.id),
    user_data: JSON.parse(u.user_data) as Record<string, string>,
    eulas: '[]',
    resource_uri: '',
  };
}

/** Web-user permissions as HQ's role model names them (subset fieldsim grants). */
export function webUserPermissions(u: UserRow): Record<string, boolean> {
  const admin = u.is_admin === 1;
  return {
    edit_web_users: admin,
    view_web_users: admin,
    edit_commcare_users: canEditCommCareUsers(u),
    view_commcare_users: admin,
    edit_data: admin,
    view_reports: true,
    access_api: admin,
    access_mobile_endpoints: true,
    edit_apps: admin,
  };
}

/** `v0_1.WebUserResource` as the SSO endpoint dehydrates a web user (sso.yaml). */
export function ssoWebUser(u: UserRow): Record<string, unknown> {
  return {
    ...userBaseJson(u),
    role: u.role,
    permissions: webUserPermissions(u),
    is_admin: u.is_admin === 1,
    eulas: '[]',
    resource_uri: '',
  };
}
