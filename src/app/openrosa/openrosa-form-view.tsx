import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { toComposedForm } from '../../core/openrosa/fill-xform.ts';
import type { FormListEntry } from '../../core/openrosa/form-list.ts';
import { FormSession, parseXForm } from '../../core/xforms/form-session.ts';
import type { QuestionState, ValidationIssue } from '../../core/xforms/form-session-types.ts';
import { FormValidationError } from '../../core/xforms/form-validation-error.ts';
import { GroupView, QuestionView } from '../commcare/question-view.tsx';
import { describeError } from '../state/describe-error.ts';
import { device, refreshCounts } from './openrosa-device.ts';

/**
 * One form of the server's list: downloaded (md5-checked), filled with the core XForm
 * engine, and on Submit queued in the outbox and sent at once when the network allows.
 * Repeats show the instances the form starts with (no adding or removing here).
 */
export function OpenRosaFormView({ entry, onDone }: { entry: FormListEntry; onDone: () => void }) {
  const [session, setSession] = useState<FormSession | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    const d = device.value;
    if (!d) return;
    d.client.downloadForm(entry).then(
      (xml) => {
        if (!live) return;
        try {
          setSession(
            FormSession.start(parseXForm(xml), {
              instances: () => undefined,
              meta: { deviceId: d.client.deviceId, username: '', userId: '', appVersion: 'fieldsim' },
            }),
          );
        } catch (e) {
          setFailure(describeError(e));
        }
      },
      (e: unknown) => live && setFailure(describeError(e)),
    );
    return () => {
      live = false;
    };
  }, [entry]);
  if (failure)
    return (
      <section class="card stack">
        <p role="alert" class="field-error">
          This form cannot be opened: {failure}
        </p>
        <button type="button" class="secondary" onClick={onDone}>
          Back to the form list
        </button>
      </section>
    );
  if (!session) return <p class="muted">Downloading the form…</p>;
  return <FormBody entry={entry} session={session} onDone={onDone} />;
}

function FormBody({
  entry,
  session,
  onDone,
}: {
  entry: FormListEntry;
  session: FormSession;
  onDone: () => void;
}) {
  const [, setTick] = useState(0);
  const [typed, setTyped] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const [done, setDone] = useState<string | null>(null);

  if (done)
    return (
      <section class="card stack" aria-labelledby="openrosa-done-h">
        <h2 id="openrosa-done-h">Form saved</h2>
        <p role="status" class="banner info">
          {done}
        </p>
        <button type="button" onClick={onDone}>
          Back to the form list
        </button>
      </section>
    );

  const byParent = new Map<string | undefined, QuestionState[]>();
  for (const q of session.questions()) {
    const list = byParent.get(q.parentRef) ?? [];
    list.push(q);
    byParent.set(q.parentRef, list);
  }
  const answer = (q: QuestionState, v: string | string[]) => {
    const r = session.answer(q.ref, v);
    const nextErrors = { ...errors };
    const nextTyped = { ...typed };
    if (r.ok) {
      delete nextErrors[q.ref];
      delete nextTyped[q.ref];
    } else {
      nextErrors[q.ref] = r.issue.message;
      nextTyped[q.ref] = Array.isArray(v) ? v.join(' ') : v;
      session.answer(q.ref, '');
    }
    setErrors(nextErrors);
    setTyped(nextTyped);
    setTick((t) => t + 1);
  };
  const render = (parent: string | undefined): ComponentChildren[] =>
    (byParent.get(parent) ?? [])
      .filter((q) => q.relevant)
      .map((q) => {
        if (q.kind === 'group' || q.kind === 'repeat' || q.kind === 'repeat-instance')
          return (
            <GroupView key={q.ref} q={q}>
              {render(q.ref)}
            </GroupView>
          );
        return (
          <QuestionView
            key={q.ref}
            q={q}
            value={typed[q.ref] ?? q.value}
            error={errors[q.ref]}
            onAnswer={(v) => answer(q, v)}
          />
        );
      });

  const show = (issues: readonly ValidationIssue[]) => {
    const next = { ...errors };
    for (const i of issues) next[i.ref] = i.message;
    setErrors(next);
    setMessage({
      error: true,
      text: `Check ${issues.length === 1 ? 'the answer' : `the ${issues.length} answers`} marked below.`,
    });
  };

  const submit = async () => {
    setMessage(null);
    const d = device.value;
    if (!d) return;
    const issues = session.validate();
    if (issues.length > 0) return show(issues);
    let xml: string;
    let instanceId: string;
    try {
      ({ xml, instanceId } = session.finish());
    } catch (e) {
      if (e instanceof FormValidationError) return show(e.issues);
      return setMessage({ error: true, text: describeError(e) });
    }
    try {
      // On disk (IndexedDB) before any byte goes to the server.
      await d.outbox.enqueue(
        toComposedForm({ ok: true, xml, instanceId, formId: entry.formId, name: entry.name }, entry.formId),
      );
      const report = await d.outbox.trigger('save');
      await refreshCounts();
      const sent = (await d.outbox.list(['sent'])).some((i) => i.instanceId === instanceId);
      setDone(
        sent
          ? `Sent to the server (${instanceId}).`
          : `Saved on this device; it will be sent when the server can be reached${report?.stoppedBy ? ` (${report.stoppedBy.message})` : ''}.`,
      );
    } catch (e) {
      setMessage({ error: true, text: describeError(e) });
    }
  };

  return (
    <form
      class="card stack app-form"
      aria-label={entry.name}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <h2>{entry.name}</h2>
      {render(undefined)}
      {message && (
        <div role={message.error ? 'alert' : 'status'} class={message.error ? 'field-error' : 'banner info'}>
          {message.text}
        </div>
      )}
      <div class="row">
        <button type="submit">Submit</button>
        <button type="button" class="secondary" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
