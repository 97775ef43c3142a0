import type { CompiledXPath } from '../xforms/xpath/xpath-types.ts';
import type { ParsedSuite, SuiteDetail, SuiteEntry, SuiteMenu } from './suite-model.ts';

/** An XForm the suite declares: where it was read from and its text, parsed later. */
export interface AppForm {
  path: string;
  xml: string;
  /** The xmlns of the primary instance root, which entries name in `<form>`. */
  xmlns: string;
}

/** The demo user's restore shipped with the app (`<user-restore>`), already checked. */
export interface DemoUserRestore {
  username: string;
  xml: string;
}

/**
 * An installed CommCare app: what `loadApp` returns and menus, case lists and details
 * read. Everything is already fetched and checked; nothing here does I/O.
 */
export interface CommCareApp {
  name: string;
  uniqueId: string;
  /** The profile's `version` (HQ's build number). */
  version: number;
  /** `<property key value>` from the profile (`cc-app-version`, `cur_locale`, ...). */
  profileProperties: ReadonlyMap<string, string>;
  /** Locale languages other than `default`, in suite order, then `default`. */
  languages: readonly string[];
  /** The language to show first: the profile's `cur_locale` when the app has it. */
  defaultLanguage: string;
  suites: readonly ParsedSuite[];
  /** Every `<menu>` of every suite, in order (ids may repeat: they merge on screen). */
  menus: readonly SuiteMenu[];
  /** Entries, views and remote requests by command id. */
  entries: ReadonlyMap<string, SuiteEntry>;
  details: ReadonlyMap<string, SuiteDetail>;
  /** XForms by the xmlns of their primary instance. */
  forms: ReadonlyMap<string, AppForm>;
  /** App strings by language (`default`, `en`, ...). */
  strings: ReadonlyMap<string, ReadonlyMap<string, string>>;
  demoUserRestore: DemoUserRestore | undefined;
  /**
   * The app string for `localeId` in `lang`, falling back to `default`
   * (commcare-core `Localizer`: `default` is every locale's fallback); the id itself
   * when neither has it.
   */
  text(localeId: string, lang?: string): string;
  /** The string or undefined, for callers that need to know it is missing. */
  lookupText(localeId: string, lang?: string): string | undefined;
  /** A compiled expression (compiled once per source, shared by all evaluations). */
  xpath(source: string): CompiledXPath;
}
