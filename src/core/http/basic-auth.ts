/**
 * `Authorization: Basic` for the mobile endpoints (HQ's `mobile_auth` defaults to Basic,
 * PROTOCOL.md 2.3). Credentials are UTF-8 encoded before base64 (RFC 7617 `charset=UTF-8`),
 * done by hand because `btoa` only takes Latin-1 and core may not use `Buffer`.
 */
export function basicAuthHeader(username: string, password: string): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return `Basic ${btoa(binary)}`;
}

/**
 * Mobile workers authenticate as `<name>@<domain>.commcarehq.org`; a name without `@` is
 * expanded the way HQ's `format_username` does it: lower-cased, whitespace replaced with
 * `.` (hq:corehq/apps/users/util.py, PROTOCOL.md 1 and 2.1). Names that already carry an
 * `@` (web users, full names) are kept as typed apart from trimming.
 */
export function fullUsername(username: string, domain: string): string {
  const name = username.trim();
  if (name.includes('@')) return name;
  return `${name.toLowerCase().replace(/\s+/g, '.')}@${domain.toLowerCase()}.commcarehq.org`;
}

/** The part before `@`: what HQ writes in the restore's `<Registration>` (PROTOCOL.md 2.1). */
export function shortUsername(username: string): string {
  const at = username.indexOf('@');
  return at < 0 ? username : username.slice(0, at);
}

/**
 * `Authorization: ApiKey <username>:<key>`, HQ's tastypie API-key scheme, accepted on
 * restore and receiver as well as the JSON APIs (PROTOCOL.md 2.3: the server splits on the
 * first `:`, so the key may contain colons but the username may not).
 */
export function apiKeyAuthHeader(username: string, apiKey: string): string {
  return `ApiKey ${username}:${apiKey}`;
}
