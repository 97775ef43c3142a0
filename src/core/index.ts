/**
 * fieldsim core: the public surface, a curated list of named exports (no barrels
 * elsewhere). Hosts (PWA, CLI, tests) import from here; internals may move.
 */

// HQ JSON APIs (v0.5) and the application structure
export {
  type CaseGetOptions,
  type CaseListParams,
  type CaseOrderBy,
  type DateFilter,
  type FormListParams,
  type FormOrderBy,
  formatHqDateFilter,
  type GroupListParams,
  type PageParams,
  parseHqDate,
  type UserListParams,
  type WebUserListParams,
} from './api/api-params.ts';
export {
  type ApiAuth,
  type ApiRetryInfo,
  type ApiRetryPolicy,
  DEFAULT_API_RETRY,
} from './api/api-transport.ts';
export type {
  ApiApplication,
  ApiCase,
  ApiCaseIndex,
  ApiCaseProperties,
  ApiForm,
  ApiFormAttachment,
  ApiFormData,
  ApiFormMetadata,
  ApiMeta,
  ApiPage,
  Group,
  GroupCreate,
  GroupUpdate,
  HqDateTime,
  MobileWorker,
  MobileWorkerCreate,
  MobileWorkerUpdate,
  WebUser,
  WebUserCreate,
  WebUserUpdate,
} from './api/api-types.ts';
export {
  DataForwardingApi,
  type Forwarder,
  type ForwarderInput,
  type ForwarderType,
  type RepeatRecord,
  type RepeatRecordState,
} from './api/data-forwarding-api.ts';
export {
  ApplicationsApi,
  CasesApi,
  DEFAULT_ITERATE_LIMIT,
  FormsApi,
  GroupsApi,
  HqApiClient,
  type HqApiClientOptions,
  ListApi,
  UsersApi,
  WebUsersApi,
} from './api/hq-api-client.ts';
export { INDEXED_ON_PAGE_SIZE, indexedOnFilter, iterateByIndexedOn } from './api/indexed-on-pager.ts';
export {
  ODataApi,
  type ODataConfig,
  type ODataKind,
  type ODataPage,
  type ODataRow,
} from './api/odata-client.ts';
// Real CommCare apps: install, menus, case lists, XForm sessions (issue 12)
export { type AppDeviceData, instanceResolver } from './apps/app-device-data.ts';
export {
  type Answers,
  type AppFormDraftInput,
  answerText,
  buildAppFormDraft,
  buildIncompleteDraft,
  nameQuestion,
  readIncompleteDraft,
  validateAnswer,
  validateForm,
} from './apps/app-form-draft.ts';
export {
  type AppFormDraftState,
  buildSnapshotDraft,
  readSnapshotDraft,
  snapshotInstanceId,
} from './apps/app-form-snapshot-draft.ts';
export { type AppNav, type AppStep, nextStep } from './apps/app-navigation.ts';
export {
  type AppForm,
  type AppFormAction,
  type AppModule,
  type AppOption,
  type AppQuestion,
  type AppStructure,
  applicationToWire,
  type FoundForm,
  findForm,
  findFormByName,
  localName,
  parseApplication,
} from './apps/app-structure.ts';
export { type AppAnswers, applyAnswers } from './apps/apply-answers.ts';
export { type CaseEntry, entriesForCase } from './apps/case-entries.ts';
export {
  type AppFormFillInput,
  type AppFormFillResult,
  datumValues,
  entryFormDef,
  entryNeedsCase,
  fillAppForm,
} from './apps/fill-app-form.ts';
export {
  downloadApp,
  type InstalledBuild,
  installFromCcz,
  listServerApps,
  openInstalledApp,
  type ServerAppListing,
  type ServerAppOptions,
  serverAppVersion,
} from './apps/install-app.ts';
export { type InstalledAppRecord, InstalledAppStore, installedAppKey } from './apps/installed-app-store.ts';
export { type DeviceIdentity, readDeviceData } from './apps/read-device-data.ts';
// Errors
export { ERROR_MESSAGES, type ErrorCode, isErrorCode } from './errors/codes.ts';
export { FieldsimError, isFieldsimError } from './errors/fieldsim-error.ts';
export { HttpError } from './errors/http-error.ts';
export { NetworkError } from './errors/network-error.ts';
export { StorageError } from './errors/storage-error.ts';
export { XFormError, type XFormErrorCode } from './errors/xform-error.ts';
export { XmlError } from './errors/xml-error.ts';
// Outbox
export { type BackoffPolicy, DEFAULT_BACKOFF } from './http/backoff.ts';
// HTTP
export { fullUsername, shortUsername } from './http/basic-auth.ts';
export { classifySubmitResponse, type SubmitOutcome } from './http/classify-response.ts';
export type { AuthMode } from './http/client-auth.ts';
export {
  HQ_SUBMISSION_LIMITS,
  HqClient,
  type HqClientOptions,
  type RestoreRequest,
  type RestoreResponse,
  type SsoUser,
  type SubmitAttachment,
  type SubmitRequest,
} from './http/hq-client.ts';
export { isNetworkError } from './http/is-network-error.ts';
export { unreachable } from './lib/unreachable.ts';
export * from './openrosa/index.ts';
export {
  type ExportedForm,
  type ImportResult,
  Outbox,
  type OutboxExport,
  type OutboxLimits,
  type SaveAttachment,
  type TriggerReason,
} from './outbox/outbox.ts';
// Platform
export {
  type Clock,
  createInProcessLock,
  type FetchLike,
  type IndexedDbDeps,
  type LockFn,
  systemClock,
} from './platform.ts';
// Wire formats
export type { CaseAction, CaseBlock, CaseIndex, CaseRecord } from './protocol/casexml/case-types.ts';
export { NS } from './protocol/namespaces.ts';
export { type OpenRosaResponse, parseOpenRosaResponse } from './protocol/openrosa-response.ts';
export type { RegistrationRecord } from './protocol/restore/restore-types.ts';
export { composeForm, xsdDateTime } from './protocol/submission/compose-form.ts';
export type {
  ComposedForm,
  FormDraft,
  FormMeta,
  FormNode,
  FormSpec,
} from './protocol/submission/form-types.ts';
export {
  type CloseCaseInput,
  closeCaseForm,
  GENERIC_XMLNS,
  type RegisterCaseInput,
  registerCaseForm,
  type UpdateCaseInput,
  updateCaseForm,
} from './protocol/submission/generic-forms.ts';
export { type ReadForm, readForm } from './protocol/submission/read-form.ts';
export type { QuarantineReason } from './protocol/submission/submission-types.ts';
// Local database
export { CaseDb } from './store/case-db.ts';
export { databaseName, FieldsimDb } from './store/fieldsim-db.ts';
export { type AppFiles, appFilesFromMap, appFilesFromZip } from './suite/app-files.ts';
export { type AppFilesFromServerOptions, appFilesFromServer } from './suite/app-files-from-server.ts';
export { type CaseDetail, type CaseList, caseDetail, caseList } from './suite/case-list.ts';
export type { CommCareApp } from './suite/commcare-app.ts';
export { computeDatum } from './suite/compute-datum.ts';
export { loadApp } from './suite/load-app.ts';
export {
  findEntry,
  type MenuItem,
  menuItems,
  menuText,
  neededDatums,
  rootMenu,
} from './suite/menu-navigation.ts';
export type { SessionUser, SuiteContext } from './suite/suite-context.ts';
export type { SessionDatum, SuiteEntry, SuiteMenu } from './suite/suite-model.ts';
// Sessions
export { createPasswordVerifier, type PasswordVerifier, verifyPassword } from './sync/password-verifier.ts';
export { type RegisteredUser, type RegisterUserInput, registerUser } from './sync/register-user.ts';
export type { FullIngest, RestoreFlowResult } from './sync/restore-flow.ts';
export {
  type LoginOptions,
  login,
  type OpenOfflineOptions,
  openOffline,
  type SaveFormOptions,
  Session,
  type SessionOptions,
  type SessionPlatform,
  type SyncAndSendReport,
} from './sync/session.ts';
export type {
  CasePage,
  CaseQuery,
  OutboxItem,
  OutboxState,
  RestoreProgress,
  RestoreSummary,
  SendReport,
  SessionInfo,
} from './sync/session-types.ts';
export type { FormDef } from './xforms/form-def.ts';
export {
  type AnswerResult,
  type FinishedForm,
  FormSession,
  type FormSessionOptions,
  type FormSnapshot,
  FormValidationError,
  parseXForm,
  type QuestionState,
  type ValidationIssue,
} from './xforms/form-session.ts';
export { buildCaseDbInstance } from './xforms/instances/build-casedb-instance.ts';
export { buildFixtureInstance } from './xforms/instances/build-fixture-instance.ts';
export { buildSessionInstance } from './xforms/instances/build-session-instance.ts';
export { compileXPath, unknownFunctions } from './xforms/xpath/compile-xpath.ts';
export type { CompiledXPath, XPathEnvironment, XPathValue } from './xforms/xpath/xpath-types.ts';
