import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { AppDeviceData } from '../../core/apps/app-device-data.ts';
import { instanceResolver } from '../../core/apps/app-device-data.ts';
import {
  buildSnapshotDraft,
  readSnapshotDraft,
  snapshotInstanceId,
} from '../../core/apps/app-form-snapshot-draft.ts';
import { entryFormDef } from '../../core/apps/fill-app-form.ts';
import type { CommCareApp } from '../../core/suite/commcare-app.ts';
import type { SuiteEntry } from '../../core/suite/suite-model.ts';
import { FormSession } from '../../core/xforms/form-session.ts';
import type {
  FormSessionOptions,
  QuestionState,
  ValidationIssue,
} from '../../core/xforms/form-session-types.ts';
import { FormValidationError } from '../../core/xforms/form-validation-error.ts';
import { backend, caseVersion, saveDraft, trySend } from '../state/app-state.ts';
import { describeError } from '../state/describe-error.ts';
import { href } from '../state/router.ts';
import { SaveOutcome } from '../views/save-outcome.tsx';
import { describeAppError } from './installed-apps.ts';
import { GroupView, QuestionView, questionId } from './question-view.tsx';

interface FormEntryProps {
  app: CommCareApp;
  entry: SuiteEntry;
  /** The entry's text in the current language: the form's name in the outbox. */
  title: string;
  sessionData: Record<string, string>;
  device: AppDeviceData;
  lang: string;
  /** Resume this incomplete form (an outbox draft written by "Save incomplete"). */
  draftId?: string | undefined;
}

/**
 * An installed app's form, filled with the core XForm engine (`FormSession`) on one page
 * with live relevance, like Web Apps: groups and field-lists as sections, repeats with
 * their instances, labels with `<output>` values, the form's own required and
 * constraint messages next to each question. `Submit` finishes the form and saves it to
 * the outbox (`saveFilledForm`: case changes applied locally at once); `Save incomplete`
 * keeps the engine's snapshot as an outbox draft to resume later.
 */
export function FormEntry(props: FormEntryProps) {
  const { app, entry, sessionData, device, draftId } = props;
  const [session, setSession] = useState<FormSession | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    void (async () => {
      try {
        const def = entryFormDef(app, entry);
        const opts: FormSessionOptions = {
          instances: instanceResolver(device, sessionData),
          meta: {
            deviceId: device.user.deviceid,
            username: device.user.username,
            userId: device.user.userid,
            appVersion: device.user.appversion,
          },
          ...(def.itext.languages.includes(props.lang) ? { language: props.lang } : {}),
        };
        let s: FormSession;
        if (draftId) {
          const stored = await backend.value?.getDraft(draftId);
          const state = stored ? readSnapshotDraft(stored) : undefined;
          if (!state) throw new Error('This incomplete form is no longer on this device.');
          s = FormSession.resume(def, state.snapshot, opts);
        } else s = FormSession.start(def, opts);
        if (live) setSession(s);
      } catch (e) {
        if (live) setFailure(describeAppError(e));
      }
    })();
    return () => {
      live = false;
    };
    // The session starts once: later case changes must not restart a form being filled.
  }, [app, entry, draftId]);
  if (failure)
    return (
      <p role="alert" class="field-error">
        This form cannot be opened: {failure}
      </p>
    );
  if (!session) return <p class="muted">Opening the form…</p>;
  return <FormBody {...props} session={session} />;
}

function FormBody({
  app,
  entry,
  title,
  sessionData,
  lang,
  draftId,
  session,
}: FormEntryProps & { session: FormSession }) {
  const [, setTick] = useState(0);
  const rerender = () => setTick((t) => t + 1);
  const [typed, setTyped] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, { code: ValidationIssue['code']; message: string }>>(
    {},
  );
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const [saved, setSaved] = useState<{ instanceId: string; caseIds: string[] } | null>(null);
  const [draft, setDraft] = useState<string | undefined>(draftId);

  // The form's itext follows the app's language when the form has it.
  useMemo(() => {
    if (session.languages().includes(lang) && session.language() !== lang) session.setLanguage(lang);
  }, [session, lang]);

  if (saved) {
    return (
      <section class="card stack" aria-labelledby="form-done-h">
        <h2 id="form-done-h">Form saved</h2>
        <div role="status" class="banner info">
          <SaveOutcome instanceId={saved.instanceId} />
        </div>
        <div class="row">
          <a class="button" href={href({ name: 'app', appId: app.uniqueId, data: {} })}>
            Back to {app.name}
          </a>
          {saved.caseIds.map((id) => (
            <a key={id} class="button secondary" href={href({ name: 'case', caseId: id })}>
              Open the case
            </a>
          ))}
        </div>
      </section>
    );
  }

  const questions = session.questions();
  const byParent = new Map<string | undefined, QuestionState[]>();
  const byRef = new Map<string, QuestionState>();
  for (const q of questions) {
    byRef.set(q.ref, q);
    const list = byParent.get(q.parentRef) ?? [];
    list.push(q);
    byParent.set(q.parentRef, list);
  }

  const answer = (q: QuestionState, v: string | string[]) => {
    const text = Array.isArray(v) ? v.join(' ') : v;
    const r = session.answer(q.ref, v);
    const nextErrors = { ...errors };
    const nextTyped = { ...typed };
    if (r.ok) {
      delete nextErrors[q.ref];
      delete nextTyped[q.ref];
    } else {
      // Refused (wrong type, broken constraint): the phone keeps the old answer; here the
      // question is emptied so nothing stale drives calculations, and the text stays shown.
      nextErrors[q.ref] = { code: r.issue.code, message: r.issue.message };
      nextTyped[q.ref] = text;
      session.answer(q.ref, '');
    }
    setErrors(nextErrors);
    setTyped(nextTyped);
    rerender();
  };

  const render = (parent: string | undefined): ComponentChildren[] =>
    (byParent.get(parent) ?? [])
      .filter((q) => q.relevant)
      .map((q) => {
        if (q.kind === 'group') {
          // HQ wraps each repeat in a group with the same label: show the repeat alone.
          const inner = (byParent.get(q.ref) ?? []).filter((c) => c.relevant);
          const only = inner.length === 1 ? inner[0] : undefined;
          if (only?.kind === 'repeat' && (only.label === '' || only.label === q.label)) return render(q.ref);
          return (
            <GroupView key={q.ref} q={q}>
              {render(q.ref)}
            </GroupView>
          );
        }
        if (q.kind === 'repeat')
          return (
            <RepeatView
              key={q.ref}
              q={q}
              // HQ labels the group around a repeat, not the repeat itself.
              label={q.label || byRef.get(q.parentRef ?? '')?.label || 'Item'}
              session={session}
              rerender={() => {
                // Instances renumber after a removal: messages and typed text under this
                // repeat no longer belong to the same questions.
                const keep = (ref: string) => !ref.startsWith(q.ref);
                setErrors(Object.fromEntries(Object.entries(errors).filter(([ref]) => keep(ref))));
                setTyped(Object.fromEntries(Object.entries(typed).filter(([ref]) => keep(ref))));
                rerender();
              }}
              render={render}
            />
          );
        if (q.kind === 'repeat-instance') return null;
        return (
          <QuestionView
            key={q.ref}
            q={q}
            value={typed[q.ref] ?? q.value}
            error={errorText(q, errors[q.ref])}
            onAnswer={(v) => answer(q, v)}
          />
        );
      });

  const showIssues = (issues: readonly ValidationIssue[], pending: readonly string[] = []) => {
    const next = { ...errors };
    for (const i of issues) next[i.ref] = { code: i.code, message: i.message };
    setErrors(next);
    const n = new Set([...issues.map((i) => i.ref), ...pending]).size;
    setMessage({ error: true, text: `Check ${n === 1 ? 'the answer' : `the ${n} answers`} marked below.` });
    const first = issues[0]?.ref ?? pending[0];
    if (first)
      requestAnimationFrame(() => {
        const el = document.getElementById(questionId(first));
        (el?.querySelector('input') ?? el)?.focus();
      });
  };

  const submit = async () => {
    setMessage(null);
    // Refused answers still on screen block the submission; those of questions that are
    // gone (not relevant any more) do not.
    const shown = new Set(
      session
        .questions()
        .filter((x) => x.relevant)
        .map((x) => x.ref),
    );
    const pending = Object.keys(errors).filter((ref) => typed[ref] !== undefined && shown.has(ref));
    const issues = session.validate();
    if (issues.length > 0 || pending.length > 0) return showIssues(issues, pending);
    let finished: ReturnType<FormSession['finish']>;
    try {
      finished = session.finish();
    } catch (e) {
      if (e instanceof FormValidationError) return showIssues(e.issues);
      return setMessage({ error: true, text: describeAppError(e) });
    }
    const b = backend.value;
    if (!b) return;
    try {
      const item = await b.saveFilledForm(
        { ...finished, name: title || finished.name },
        { replacesDraft: draft !== undefined },
      );
      caseVersion.value++;
      void trySend('save');
      setSaved({ instanceId: item.instanceId, caseIds: item.caseIds });
    } catch (err) {
      setMessage({ error: true, text: describeError(err) });
    }
  };

  const saveIncomplete = async () => {
    setMessage(null);
    try {
      const snapshot = session.snapshot();
      const id = snapshotInstanceId(snapshot);
      await saveDraft(
        buildSnapshotDraft({ appId: app.uniqueId, commandId: entry.commandId, sessionData, snapshot }, title),
        id,
      );
      setDraft(id);
      setMessage({ error: false, text: 'Saved as incomplete. Resume it from the Outbox.' });
    } catch (err) {
      setMessage({ error: true, text: describeError(err) });
    }
  };

  return (
    <form
      class="card stack app-form"
      lang={session.language() || undefined}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      {render(undefined)}
      {message && (
        <div role={message.error ? 'alert' : 'status'} class={message.error ? 'field-error' : 'banner info'}>
          {message.text}
        </div>
      )}
      <div class="row">
        <button type="submit">Submit</button>
        <button type="button" class="secondary" onClick={() => void saveIncomplete()}>
          Save incomplete
        </button>
      </div>
    </form>
  );
}

/**
 * The message shown for a question: a broken constraint shows the form's message in the
 * current language (it follows a language switch); other messages as they were given.
 */
function errorText(
  q: QuestionState,
  e: { code: ValidationIssue['code']; message: string } | undefined,
): string | undefined {
  if (e === undefined) return undefined;
  return e.code === 'constraint' && q.constraintMessage ? q.constraintMessage : e.message;
}

/** A repeat: its instances, each removable when the form lets the user, and `Add`. */
function RepeatView({
  q,
  label,
  session,
  rerender,
  render,
}: {
  q: QuestionState;
  label: string;
  session: FormSession;
  rerender: () => void;
  render: (parent: string | undefined) => ComponentChildren[];
}) {
  const instances = session.questions().filter((x) => x.parentRef === q.ref && x.kind === 'repeat-instance');
  // A counted repeat at zero (`jr:count` of an empty answer) has nothing to show.
  if (instances.length === 0 && !q.repeat?.canAdd) return null;
  return (
    <fieldset class="group stack repeat">
      <legend>{label}</legend>
      {instances
        .filter((i) => i.relevant)
        .map((inst) => (
          <fieldset key={inst.ref} class="group stack">
            <legend>
              {label} {inst.repeat?.position ?? ''}
            </legend>
            {render(inst.ref)}
            {inst.repeat?.canRemove && (
              <div>
                <button
                  type="button"
                  class="secondary"
                  onClick={() => {
                    session.removeRepeat(inst.ref);
                    rerender();
                  }}
                >
                  Remove {label} {inst.repeat.position}
                </button>
              </div>
            )}
          </fieldset>
        ))}
      {q.repeat?.canAdd && (
        <div>
          <button
            type="button"
            class="secondary"
            onClick={() => {
              session.addRepeat(q.ref);
              rerender();
            }}
          >
            Add {label}
          </button>
        </div>
      )}
    </fieldset>
  );
}
