import { FieldsimError } from '../errors/fieldsim-error.ts';
import { HttpError } from '../errors/http-error.ts';
import { httpErrorFor } from '../http/classify-response.ts';
import type { HqClient } from '../http/hq-client.ts';
import { toHex } from '../lib/md5.ts';
import { parseRegistrationAnswer, registrationXml } from '../protocol/registration.ts';

export interface RegisterUserInput {
  /** Short name (`ana`) or full `ana@<domain>.commcarehq.org`. */
  username: string;
  password: string;
  /** The new user's id; a random 32-hex id by default. An existing id updates that worker. */
  uuid?: string;
  /** Join date, `YYYY-MM-DD` (default today, UTC). */
  date?: string;
  /** Defaults to the client's device id. */
  registeringPhoneId?: string;
  userData?: Record<string, string>;
  /**
   * Send the password in clear instead of a Django PBKDF2 hash. The server can then also
   * derive HTTP Digest credentials, but the password is kept inside the stored form.
   */
  clearPassword?: boolean;
}

export interface RegisteredUser {
  username: string;
  uuid: string;
  /** False when the uuid named an existing worker, which was updated. */
  created: boolean;
  message: string;
}

/** Django's PBKDF2 iterations for the hash sent (the emulator's own count). */
const PBKDF2_ITERATIONS = 60_000;

function base64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`, Django's format, through WebCrypto. */
export async function djangoPasswordHash(password: string, iterations = PBKDF2_ITERATIONS): Promise<string> {
  const salt = toHex(crypto.getRandomValues(new Uint8Array(8)));
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(password), 'PBKDF2', false, [
    'deriveBits',
  ]);
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt: new TextEncoder().encode(salt), iterations },
    key,
    256,
  );
  return `pbkdf2_sha256$${iterations}$${salt}$${base64(new Uint8Array(bits))}`;
}

/**
 * Registers a mobile worker the way a JavaRosa phone does: a registration form posted to
 * the receiver with the client's credentials (HQ creates the worker from it; PROTOCOL.md
 * and docs/core.md). Throws `HttpError` `registration-rejected` (422: malformed, username
 * taken) with the server's reason, `auth-invalid` and the other HTTP errors as for any
 * request, `NetworkError` when no answer arrived.
 */
export async function registerUser(client: HqClient, input: RegisterUserInput): Promise<RegisteredUser> {
  if (input.username.trim() === '') throw new FieldsimError('invalid-argument', 'A username is required');
  if (input.password === '') throw new FieldsimError('invalid-argument', 'A password is required');
  const uuid = input.uuid ?? toHex(crypto.getRandomValues(new Uint8Array(16)));
  const xml = registrationXml({
    username: input.username.trim(),
    password: input.clearPassword ? input.password : await djangoPasswordHash(input.password),
    uuid,
    date: input.date ?? new Date().toISOString().slice(0, 10),
    registeringPhoneId: input.registeringPhoneId ?? client.deviceId,
    userData: input.userData ?? {},
  });
  const snap = await client.submitForResponse({ xml });
  const answer = parseRegistrationAnswer(snap.body);
  if (snap.status === 422)
    throw new HttpError(
      'registration-rejected',
      `The server refused the registration: ${answer?.message ?? snap.body.trim()}`,
      {
        status: 422,
        url: snap.url,
        serverMessage: answer?.message ?? snap.body.trim(),
        nature: answer?.nature ?? '',
      },
    );
  if (snap.status < 200 || snap.status >= 300) throw httpErrorFor(snap, Date.now());
  if (!answer?.username || !answer.uuid)
    throw new HttpError('bad-response', 'The registration answer carries no <Registration> block', {
      status: snap.status,
      url: snap.url,
    });
  return {
    username: answer.username,
    uuid: answer.uuid,
    created: answer.nature !== 'submit_user_updated',
    message: answer.message ?? '',
  };
}
