export { type FillXFormInput, type FillXFormResult, fillXForm, toComposedForm } from './fill-xform.ts';
export { type FormListEntry, type ManifestFile, parseFormList, parseManifest } from './form-list.ts';
export { OpenRosaClient, type OpenRosaClientOptions } from './openrosa-client.ts';
export { type OpenRosaEndpoints, openRosaEndpoints } from './openrosa-server-url.ts';
