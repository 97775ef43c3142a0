/**
 * Every error fieldsim raises carries one of these codes. The UI and the CLI switch on
 * them (exhaustively, with `unreachable`), so adding a code means handling it there too.
 */
export const ERROR_MESSAGES = {
  'auth-invalid': 'The server did not accept these credentials.',
  'user-deactivated': 'This mobile worker is deactivated or deleted on the server.',
  forbidden: 'The server refused access.',
  'not-found': 'The server has no such resource.',
  'bad-request': 'The server rejected the request as malformed or invalid (HTTP 400).',
  'restore-needed': 'The server asked for a fresh restore (HTTP 412).',
  'rate-limited': 'The server is rate limiting requests; try again later.',
  'server-error': 'The server failed to handle the request.',
  'bad-response': 'The server answered with something fieldsim cannot read.',
  'network-offline': 'The network is unreachable.',
  'network-error': 'The connection failed or was dropped.',
  timeout: 'The request took too long.',
  aborted: 'The operation was cancelled.',
  'xml-malformed': 'The XML is not well formed.',
  'xml-invalid': 'The XML is well formed but breaks the protocol rules.',
  'restore-parser-failed': 'The restore parser stopped unexpectedly; nothing of this restore was kept.',
  'xml-too-large':
    'An XML element is larger than fieldsim accepts (too many children, attributes or characters).',
  'case-invalid': 'A case block breaks CommCare case rules.',
  'case-not-found': 'A case block refers to a case that does not exist.',
  'invalid-case-graph': 'The case indices form a cycle.',
  'fixture-invalid': 'A fixture or its schema is invalid.',
  'storage-full': 'The device has no space left for fieldsim data.',
  'storage-blocked': 'The local database is blocked or closed.',
  'storage-error': 'The local database failed.',
  'state-in-use': 'The local state folder is in use by another fieldsim command.',
  'state-corrupt': 'A local state file is damaged or was not written by fieldsim.',
  'data-locked': 'The local data is encrypted and locked; enter the password to open it.',
  'wrong-password': 'The password does not open the encrypted local data.',
  'password-changed':
    'The password was changed on the server; give the password used before on this device once.',
  'record-integrity': 'A stored record failed its integrity check (damaged or tampered with).',
  'submission-too-large': 'The form or an attachment is larger than the server accepts.',
  'submission-rejected': 'The server rejected the form.',
  'registration-rejected': 'The server refused the user registration.',
  'not-logged-in': 'No user is logged in.',
  'invalid-argument': 'An argument is invalid.',
  'app-invalid': 'The CommCare app is broken: a file is missing, unreadable or malformed.',
  'form-not-found': 'The app has no such form or menu entry.',
  'form-invalid': 'The XForm breaks the XForms rules fieldsim follows.',
  'xpath-syntax': 'An XPath expression does not parse.',
  'xpath-unsupported': 'An XPath expression calls a function fieldsim does not support.',
  'xpath-eval': 'An XPath expression failed while it was evaluated.',
  'instance-missing': 'The form refers to an instance that is not available.',
  'calculate-cycle': "The form's calculations or conditions depend on each other in a cycle.",
  'answer-invalid': 'An answer does not fit its question.',
} as const;

export type ErrorCode = keyof typeof ERROR_MESSAGES;

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_MESSAGES, value);
}
