import { FieldsimError } from '../errors/fieldsim-error.ts';

/**
 * Where a generic OpenRosa server's endpoints are, from the one URL a user gives: the
 * base under which `formList` and `submission` live (OpenRosa Form List and Form
 * Submission APIs). For ODK Central that is a project, `https://central/v1/projects/1`
 * (web user, Basic), or an app user's link `https://central/v1/key/<token>/projects/1`
 * (the token is the credential); for ODK Aggregate and Kobo's KoBoCAT the server root
 * (`https://kc.kobotoolbox.org/<user>` for Kobo). A URL that already ends in `/formList`
 * or `/submission` is taken back to its base, so either endpoint can be pasted.
 */
export interface OpenRosaEndpoints {
  baseUrl: string;
  formListUrl: string;
  submissionUrl: string;
  /** Central app-user link: no Basic credentials are needed. */
  appUserToken?: string;
}

export function openRosaEndpoints(url: string): OpenRosaEndpoints {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw new FieldsimError('invalid-argument', `Not a URL: ${url}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new FieldsimError('invalid-argument', `An OpenRosa server URL is http(s), not ${u.protocol}`);
  u.search = '';
  u.hash = '';
  const path = u.pathname.replace(/\/+$/, '').replace(/\/(formList|submission)$/i, '');
  const baseUrl = `${u.origin}${path}`;
  const out: OpenRosaEndpoints = {
    baseUrl,
    formListUrl: `${baseUrl}/formList`,
    submissionUrl: `${baseUrl}/submission`,
  };
  const token = /\/v1\/key\/([^/]+)\//.exec(`${path}/`)?.[1];
  if (token !== undefined) out.appUserToken = decodeURIComponent(token);
  return out;
}
