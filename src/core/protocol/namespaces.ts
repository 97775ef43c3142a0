/** XML namespaces of the CommCare/OpenRosa wire formats (PROTOCOL.md section 0). */
export const NS = {
  openrosaResponse: 'http://openrosa.org/http/response',
  sync: 'http://commcarehq.org/sync',
  registration: 'http://openrosa.org/user/registration',
  registrationOld: 'http://openrosa.org/user-registration',
  caseV2: 'http://commcarehq.org/case/transaction/v2',
  ledger: 'http://commcarehq.org/ledger/v1',
  orx: 'http://openrosa.org/jr/xforms',
  cc: 'http://commcarehq.org/xforms',
  deviceReport: 'http://code.javarosa.org/devicereport',
} as const;
