import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { v4 as uuidv4 } from 'uuid';
import type { CaseRecord } from '../../core/protocol/casexml/case-types.ts';
import { AppFormsSection } from '../apps/app-forms-view.tsx';
import { closeCase, propertyNameError, registerHousehold, updateCase } from '../forms/generic-forms.ts';
import { backend, saveForm } from '../state/app-state.ts';
import { describeError } from '../state/describe-error.ts';
import { href, navigate } from '../state/router.ts';
import { CasePicker } from './case-picker.tsx';
import { SaveOutcome } from './save-outcome.tsx';

export function FormsView() {
  return (
    <main id="main" tabIndex={-1}>
      <h1>Forms</h1>
      <h2>Any case</h2>
      <div class="form-list">
        <a class="form-card" href={href({ name: 'form', form: 'register' })}>
          <strong>Register a household</strong>
          Creates a new household case.
        </a>
        <a class="form-card" href={href({ name: 'form', form: 'update' })}>
          <strong>Update a case</strong>
          Changes one property of a case.
        </a>
        <a class="form-card" href={href({ name: 'form', form: 'close' })}>
          <strong>Close a case</strong>
          Closes a case, with a reason.
        </a>
      </div>
      <AppFormsSection />
      <p class="muted">
        Saving a form changes the case on this device at once and puts the form in the Outbox; it is sent when
        the device is online.
      </p>
    </main>
  );
}

function Saved({ what, caseId, instanceId }: { what: string; caseId: string; instanceId: string }) {
  return (
    <div class="banner info" role="status">
      <span>
        {what} <SaveOutcome instanceId={instanceId} />
      </span>
      <a href={href({ name: 'case', caseId })}>Open the case</a>
      <a href="#/outbox">Open the outbox</a>
    </div>
  );
}

/**
 * The frame every generic form shares: back link, title, the form with its error
 * message and submit button. `onSave` validates and saves; it returns a message to show
 * (a validation problem) or null, and any error it throws is described to the user.
 */
function FormPage(props: {
  title: string;
  back: { href: string; label: string };
  submitLabel: string;
  onSave: () => Promise<string | null>;
  children: ComponentChildren;
  after?: ComponentChildren;
}) {
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  return (
    <main id="main" tabIndex={-1}>
      <p>
        <a href={props.back.href}>{props.back.label}</a>
      </p>
      <h1>{props.title}</h1>
      <form
        class="card stack"
        noValidate
        onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          setSaving(true);
          try {
            setError(await props.onSave());
          } catch (err) {
            setError(describeError(err));
          } finally {
            setSaving(false);
          }
        }}
      >
        {props.children}
        {error && (
          <p role="alert" class="field-error">
            {error}
          </p>
        )}
        <div class="row">
          <button type="submit" disabled={saving}>
            {props.submitLabel}
          </button>
        </div>
      </form>
      {props.after}
    </main>
  );
}

/** The case a form acts on: shown when chosen (or given by the route), else a picker. */
function CaseChoice(props: { c: CaseRecord | null; onSelect: (c: CaseRecord) => void; openOnly: boolean }) {
  return props.c ? (
    <p>
      Case: <strong>{props.c.caseName}</strong> <span class="muted">({props.c.caseType})</span>
    </p>
  ) : (
    <CasePicker selected={props.c} onSelect={props.onSelect} openOnly={props.openOnly} />
  );
}

const backToCase = (c: CaseRecord | null) => ({
  href: c ? href({ name: 'case', caseId: c.caseId }) : '#/forms',
  label: '← Back',
});

export function RegisterHouseholdForm() {
  const [name, setName] = useState('');
  const [village, setVillage] = useState('');
  const [members, setMembers] = useState('');
  const [saved, setSaved] = useState<{ caseId: string; instanceId: string } | null>(null);
  if (!backend.value) return null;
  return (
    <FormPage
      title="Register a household"
      back={{ href: '#/forms', label: '← Forms' }}
      submitLabel="Save form"
      after={saved && <Saved what="Household registered." {...saved} />}
      onSave={async () => {
        if (name.trim() === '') return 'Enter the household name.';
        if (members.trim() !== '' && !/^\d+$/.test(members.trim()))
          return 'Household size must be a whole number.';
        const caseId = uuidv4();
        const item = await saveForm(registerHousehold({ caseId, name, village, householdSize: members }));
        setSaved({ caseId, instanceId: item.instanceId });
        setName('');
        setVillage('');
        setMembers('');
        return null;
      }}
    >
      <label>
        Household name
        <input value={name} onInput={(e) => setName(e.currentTarget.value)} required />
      </label>
      <label>
        Village
        <input value={village} onInput={(e) => setVillage(e.currentTarget.value)} />
      </label>
      <label>
        Household size
        <input inputMode="numeric" value={members} onInput={(e) => setMembers(e.currentTarget.value)} />
      </label>
    </FormPage>
  );
}

function useCase(caseId: string | undefined): [CaseRecord | null, (c: CaseRecord) => void] {
  const [c, setC] = useState<CaseRecord | null>(null);
  useEffect(() => {
    const b = backend.value;
    if (!b || !caseId) return;
    void b.getCase(caseId).then((found) => setC(found ?? null));
  }, [caseId]);
  return [c, setC];
}

export function UpdateCaseForm({ caseId }: { caseId?: string | undefined }) {
  const [c, setC] = useCase(caseId);
  const [property, setProperty] = useState('');
  const [value, setValue] = useState('');
  const [saved, setSaved] = useState<{ caseId: string; instanceId: string } | null>(null);
  if (!backend.value) return null;
  const existing = c ? Object.keys(c.properties).sort() : [];
  return (
    <FormPage
      title="Update a case"
      back={backToCase(c)}
      submitLabel="Save form"
      after={saved && <Saved what="Case updated." {...saved} />}
      onSave={async () => {
        if (!c) return 'Choose a case first.';
        const bad = propertyNameError(property.trim());
        if (bad) return bad;
        const item = await saveForm(
          updateCase({ caseId: c.caseId, caseName: c.caseName, property: property.trim(), value }),
        );
        setSaved({ caseId: c.caseId, instanceId: item.instanceId });
        return null;
      }}
    >
      <CaseChoice c={c} onSelect={setC} openOnly={false} />
      <label>
        Property
        <input
          list="known-properties"
          value={property}
          autocapitalize="none"
          spellcheck={false}
          onInput={(e) => {
            const p = e.currentTarget.value;
            setProperty(p);
            if (c && Object.hasOwn(c.properties, p)) setValue(c.properties[p] ?? '');
          }}
        />
        <datalist id="known-properties">
          {existing.map((p) => (
            <option key={p} value={p} />
          ))}
        </datalist>
      </label>
      <label>
        New value
        <input value={value} onInput={(e) => setValue(e.currentTarget.value)} />
      </label>
    </FormPage>
  );
}

export function CloseCaseForm({ caseId }: { caseId?: string | undefined }) {
  const [c, setC] = useCase(caseId);
  const [reason, setReason] = useState('');
  if (!backend.value) return null;
  return (
    <FormPage
      title="Close a case"
      back={backToCase(c)}
      submitLabel="Close case"
      onSave={async () => {
        if (!c) return 'Choose a case first.';
        if (c.closed) return 'This case is already closed.';
        await saveForm(closeCase({ caseId: c.caseId, caseName: c.caseName, reason }));
        navigate({ name: 'case', caseId: c.caseId });
        return null;
      }}
    >
      <CaseChoice c={c} onSelect={setC} openOnly={true} />
      <label>
        Reason for closing
        <input value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
      </label>
    </FormPage>
  );
}
