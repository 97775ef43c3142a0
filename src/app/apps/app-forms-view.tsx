import { signal } from '@preact/signals';
import { useEffect, useState } from 'preact/hooks';
import { v4 as uuidv4 } from 'uuid';
import type { CaseRecord } from '../../core/protocol/casexml/case-types.ts';
import { messagesFor } from '../messages.ts';
import { loggingFetch } from '../platform/browser-platform.ts';
import { backend, completeDraft, saveDraft, saveForm } from '../state/app-state.ts';
import { describeError } from '../state/describe-error.ts';
import { href } from '../state/router.ts';
import { CasePicker } from '../views/case-picker.tsx';
import { SaveOutcome } from '../views/save-outcome.tsx';
import {
  type Answers,
  answerText,
  buildAppFormDraft,
  buildIncompleteDraft,
  readIncompleteDraft,
} from './app-form-draft.ts';
import {
  appLanguages,
  chooseLanguage,
  chosenLanguage,
  labelIn,
  languageName,
  loadLanguageChoice,
  pickLanguage,
} from './app-language.ts';
import {
  type AppQuestion,
  type AppStructure,
  cacheApplications,
  cachedApplications,
  fetchApplications,
  findForm,
  localName,
} from './app-structure.ts';
import { validateFormIn } from './localized-validation.ts';
import { parentCaseType } from './parent-case-type.ts';

/** The loaded applications of the current domain (cached for offline use). */
export const apps = signal<AppStructure[]>([]);
let appsDomain = '';

export function appsFor(domain: string): AppStructure[] {
  if (appsDomain !== domain) {
    appsDomain = domain;
    apps.value = cachedApplications(domain);
  }
  return apps.value;
}

function LoadApplication({ domain, serverUrl }: { domain: string; serverUrl: string }) {
  const [user, setUser] = useState('');
  const [secret, setSecret] = useState('');
  const [apiKey, setApiKey] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="card stack"
      aria-labelledby="load-app-h"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(null);
        setBusy(true);
        try {
          const loaded = await fetchApplications(loggingFetch(), serverUrl, domain, {
            username: user.trim(),
            secret,
            kind: apiKey ? 'api-key' : 'password',
          });
          if (loaded.length === 0) throw new Error('This project has no application.');
          cacheApplications(domain, loaded);
          apps.value = loaded;
          setSecret('');
        } catch (err) {
          setError(describeError(err));
        } finally {
          setBusy(false);
        }
      }}
    >
      <h2 id="load-app-h">{apps.value.length > 0 ? 'Reload the application' : 'Load the application'}</h2>
      <p class="muted">
        HQ's Application Structure API answers web users only. Their password or API key is used for this one
        request and not kept.
      </p>
      <div class="row">
        <label>
          Web user
          <input autocomplete="off" value={user} onInput={(e) => setUser(e.currentTarget.value)} required />
        </label>
        <label>
          Web user secret
          <input
            type="password"
            autocomplete="off"
            value={secret}
            onInput={(e) => setSecret(e.currentTarget.value)}
            required
          />
        </label>
      </div>
      <label style={{ flexDirection: 'row', alignItems: 'center', gap: '0.5rem', fontWeight: 400 }}>
        <input
          type="checkbox"
          style={{ width: 'auto', minHeight: 'auto' }}
          checked={apiKey}
          onChange={(e) => setApiKey(e.currentTarget.checked)}
        />
        The secret is an API key
      </label>
      {error && (
        <p role="alert" class="field-error">
          {error}
        </p>
      )}
      <div>
        <button type="submit" class="secondary" disabled={busy}>
          Load application
        </button>
      </div>
    </form>
  );
}

/** The language labels are shown in, for this domain's applications (see app-language.ts). */
function useAppLanguage(domain: string, list: AppStructure[]): { lang: string; langs: string[] } {
  loadLanguageChoice(domain);
  const langs = appLanguages(list);
  const browser = typeof navigator === 'undefined' ? 'en' : navigator.language;
  return { lang: pickLanguage(langs, chosenLanguage.value, browser), langs };
}

/** `Language`: shown when the application has more than one. */
function LanguagePicker({ domain, lang, langs }: { domain: string; lang: string; langs: string[] }) {
  if (langs.length < 2) return null;
  return (
    <label class="language-picker">
      Language
      <select value={lang} onChange={(e) => chooseLanguage(domain, e.currentTarget.value)}>
        {langs.map((l) => (
          <option key={l} value={l} lang={l}>
            {languageName(l)}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Modules and forms of the loaded application(s), on the Forms screen. */
export function AppFormsSection() {
  const b = backend.value;
  if (!b) return null;
  const list = appsFor(b.info.domain);
  const { lang, langs } = useAppLanguage(b.info.domain, list);
  return (
    <>
      {list.map((app) => (
        <section key={app.id} class="card stack" aria-labelledby={`app-${app.id}`}>
          <h2 id={`app-${app.id}`}>
            {app.name} <span class="muted">(version {app.version})</span>
          </h2>
          <LanguagePicker domain={b.info.domain} lang={lang} langs={langs} />
          {app.modules.map((m) => (
            <div key={m.uniqueId} class="stack" lang={lang}>
              <h3>
                {localName(m.name, lang)} <span class="muted">· {m.caseType}</span>
              </h3>
              <div class="form-list">
                {m.forms.map((f) => (
                  <a
                    key={f.uniqueId}
                    class="form-card"
                    href={href({ name: 'app-form', appId: app.id, formId: f.uniqueId })}
                  >
                    <strong>{localName(f.name, lang)}</strong>
                    {f.questions.length} question{f.questions.length === 1 ? '' : 's'}
                  </a>
                ))}
              </div>
            </div>
          ))}
        </section>
      ))}
      <LoadApplication domain={b.info.domain} serverUrl={b.info.serverUrl} />
    </>
  );
}

function Question({
  q,
  lang,
  value,
  error,
  onChange,
}: {
  q: AppQuestion;
  lang: string;
  value: string | string[] | undefined;
  error: string | undefined;
  onChange: (v: string | string[]) => void;
}) {
  const id = `q-${q.tag}`;
  const describedBy = error ? `${id}-error` : undefined;
  // One inline box: in the column-flex label a bare text node and the star would each
  // become a flex item, putting the star on a line of its own.
  const label = (
    <span>
      {labelIn(q, lang)}
      {q.required && <span aria-hidden="true"> *</span>}
    </span>
  );
  const err = error && (
    <span id={`${id}-error`} class="field-error">
      {error}
    </span>
  );
  if ((q.type === 'Select' || q.type === 'MSelect') && q.options.length > 0) {
    const multi = q.type === 'MSelect';
    const selected = Array.isArray(value) ? value : value ? [value] : [];
    return (
      <fieldset class="choices" aria-describedby={describedBy}>
        <legend>{label}</legend>
        {q.options.map((o) => (
          <label key={o.value} class="choice">
            <input
              type={multi ? 'checkbox' : 'radio'}
              name={id}
              value={o.value}
              checked={selected.includes(o.value)}
              onChange={(e) => {
                if (!multi) onChange(o.value);
                else
                  onChange(
                    e.currentTarget.checked ? [...selected, o.value] : selected.filter((s) => s !== o.value),
                  );
              }}
            />
            {labelIn(o, lang)}
          </label>
        ))}
        {err}
      </fieldset>
    );
  }
  const type =
    q.type === 'Date'
      ? 'date'
      : q.type === 'Int' || q.type === 'Long' || q.type === 'Double' || q.type === 'Decimal'
        ? 'number'
        : 'text';
  return (
    <label>
      {label}
      <input
        type={type}
        step={q.type === 'Int' || q.type === 'Long' ? 1 : undefined}
        inputMode={type === 'number' ? 'decimal' : undefined}
        value={answerText(value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
        aria-required={q.required}
        onInput={(e) => onChange(e.currentTarget.value)}
      />
      {err}
    </label>
  );
}

export function AppFormView({
  appId,
  formId,
  caseId,
  draft,
}: {
  appId: string;
  formId: string;
  caseId?: string | undefined;
  draft?: string | undefined;
}) {
  const b = backend.value;
  const list = b ? appsFor(b.info.domain) : [];
  const found = findForm(list, appId, formId);
  // The Language choice itself lives on the Forms screen: inside a form its label would
  // collide with question labels (a label lookup for "Age" also matches "Language").
  const { lang } = useAppLanguage(b?.info.domain ?? '', list);
  const [answers, setAnswers] = useState<Answers>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [target, setTarget] = useState<CaseRecord | null>(null);
  const [parent, setParent] = useState<CaseRecord | null>(null);
  const [message, setMessage] = useState<{
    error: boolean;
    text: string;
    caseId?: string;
    /** A completed form just saved: its outcome (saved, sent, set aside) follows the outbox. */
    instanceId?: string;
  } | null>(null);

  const [draftId, setDraftId] = useState<string | undefined>(draft);
  const [parentType, setParentType] = useState<string | undefined>(undefined);

  // A child registration's parent picker offers only the parent's case type.
  useEffect(() => {
    setParentType(undefined);
    if (!b || !found || found.form.action !== 'register-child') return;
    let live = true;
    void parentCaseType(found.app, found.module, async (caseType) => {
      const page = await b.queryCases({ caseType, status: 'all', limit: 200 });
      return page.cases;
    }).then((t) => {
      if (live) setParentType(t);
    });
    return () => {
      live = false;
    };
  }, [b, found?.app, found?.module, found?.form]);

  useEffect(() => {
    if (b && caseId) void b.getCase(caseId).then((c) => setTarget(c ?? null));
  }, [caseId, b]);

  // Resuming an incomplete form: its answers and chosen cases come back.
  useEffect(() => {
    if (!b || !draft || !found) return;
    void (async () => {
      const stored = await b.getDraft(draft);
      if (!stored)
        return setMessage({ error: true, text: 'This incomplete form is no longer on this device.' });
      const r = readIncompleteDraft(found.form, stored);
      setAnswers(r.answers);
      if (r.targetId) setTarget((await b.getCase(r.targetId)) ?? null);
      if (r.parentId) setParent((await b.getCase(r.parentId)) ?? null);
    })();
  }, [draft, b, found?.form]);

  if (!b) return null;
  if (!found) {
    return (
      <main id="main" tabIndex={-1}>
        <h1>Form not found</h1>
        <p>Load the application on the Forms screen first.</p>
        <a href="#/forms">Forms</a>
      </main>
    );
  }
  const { module, form } = found;
  // fieldsim's own sentences follow the language chosen for the app's labels.
  const m = messagesFor(lang);
  const needsTarget = form.action === 'update' || form.action === 'close';
  const needsParent = form.action === 'register-child';

  return (
    <main id="main" tabIndex={-1}>
      <p>
        <a href="#/forms">← Forms</a>
      </p>
      <h1 lang={lang}>{localName(form.name, lang)}</h1>
      <form
        class="card stack"
        lang={lang}
        noValidate
        onSubmit={async (e) => {
          e.preventDefault();
          setMessage(null);
          const errs = validateFormIn(form, answers, lang);
          setErrors(errs);
          if (Object.keys(errs).length > 0) {
            setMessage({ error: true, text: m.checkMarked(Object.keys(errs).length) });
            return;
          }
          if (needsTarget && !target) return setMessage({ error: true, text: m.chooseCase });
          if (needsParent && !parent) return setMessage({ error: true, text: m.chooseParent });
          try {
            const newCaseId = uuidv4();
            const finished = buildAppFormDraft({
              module,
              form,
              answers,
              newCaseId,
              ...(target ? { target } : {}),
              ...(parent ? { parent } : {}),
            });
            const item = draftId ? await completeDraft(draftId, finished) : await saveForm(finished);
            setDraftId(undefined);
            const touched =
              needsTarget && target ? target.caseId : form.action === 'none' ? undefined : newCaseId;
            setMessage({
              error: false,
              text: '',
              instanceId: item.instanceId,
              ...(touched ? { caseId: touched } : {}),
            });
            setAnswers({});
          } catch (err) {
            setMessage({ error: true, text: describeError(err) });
          }
        }}
      >
        {needsTarget &&
          (target ? (
            <p>
              Case: <strong>{target.caseName}</strong> <span class="muted">({target.caseType})</span>
            </p>
          ) : (
            <CasePicker selected={target} onSelect={setTarget} openOnly={true} caseType={module.caseType} />
          ))}
        {needsParent &&
          (parent ? (
            <p>
              Parent: <strong>{parent.caseName}</strong> <span class="muted">({parent.caseType})</span>{' '}
              <button type="button" class="secondary" onClick={() => setParent(null)}>
                Change
              </button>
            </p>
          ) : (
            <CasePicker
              selected={parent}
              onSelect={setParent}
              openOnly={true}
              label="Find the parent case"
              {...(parentType ? { caseType: parentType } : {})}
            />
          ))}
        {form.questions.map((q) => (
          <Question
            key={q.tag}
            q={q}
            lang={lang}
            value={answers[q.tag]}
            error={errors[q.tag]}
            onChange={(v) => setAnswers({ ...answers, [q.tag]: v })}
          />
        ))}
        {message && (
          <div
            role={message.error ? 'alert' : 'status'}
            class={message.error ? 'field-error' : 'banner info'}
          >
            {message.instanceId ? (
              <SaveOutcome instanceId={message.instanceId} text={m.saveOutcome} />
            ) : (
              message.text
            )}{' '}
            {message.caseId && <a href={href({ name: 'case', caseId: message.caseId })}>{m.openCase}</a>}
          </div>
        )}
        <div class="row">
          <button type="submit">{m.saveForm}</button>
          <button
            type="button"
            class="secondary"
            onClick={async () => {
              try {
                const item = await saveDraft(
                  buildIncompleteDraft({ form, answers, target, parent }),
                  draftId,
                );
                setDraftId(item.instanceId);
                setMessage({ error: false, text: m.savedIncomplete });
              } catch (err) {
                setMessage({ error: true, text: describeError(err) });
              }
            }}
          >
            {m.saveIncomplete}
          </button>
        </div>
      </form>
    </main>
  );
}
