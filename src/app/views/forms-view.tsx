import { useEffect, useState } from 'preact/hooks';
import { v4 as uuidv4 } from 'uuid';
import type { CaseRecord } from '../../core/protocol/casexml/case-types.ts';
import { AppFormsSection } from '../apps/app-forms-view.tsx';
import { closeCase, propertyNameError, registerHousehold, updateCase } from '../forms/generic-forms.ts';
import { backend, saveForm } from '../state/app-state.ts';
import { describeError } from '../state/describe-error.ts';
import { href, navigate } from '../state/router.ts';
import { CasePicker } from './case-picker.tsx';

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

function Saved({ what, caseId }: { what: string; caseId: string }) {
  return (
    <div class="banner info" role="status">
      <span>{what} Saved to the outbox.</span>
      <a href={href({ name: 'case', caseId })}>Open the case</a>
      <a href="#/outbox">Open the outbox</a>
    </div>
  );
}

export function RegisterHouseholdForm() {
  const [name, setName] = useState('');
  const [village, setVillage] = useState('');
  const [members, setMembers] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const b = backend.value;
  if (!b) return null;
  return (
    <main id="main" tabIndex={-1}>
      <p>
        <a href="#/forms">← Forms</a>
      </p>
      <h1>Register a household</h1>
      <form
        class="card stack"
        noValidate
        onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          if (name.trim() === '') {
            setError('Enter the household name.');
            return;
          }
          if (members.trim() !== '' && !/^\d+$/.test(members.trim())) {
            setError('Household size must be a whole number.');
            return;
          }
          setSaving(true);
          try {
            const caseId = uuidv4();
            await saveForm(registerHousehold({ caseId, name, village, householdSize: members }));
            setSaved(caseId);
            setName('');
            setVillage('');
            setMembers('');
          } catch (err) {
            setError(describeError(err));
          } finally {
            setSaving(false);
          }
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
        {error && (
          <p role="alert" class="field-error">
            {error}
          </p>
        )}
        <div class="row">
          <button type="submit" disabled={saving}>
            Save form
          </button>
        </div>
      </form>
      {saved && <Saved what="Household registered." caseId={saved} />}
    </main>
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
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const b = backend.value;
  if (!b) return null;
  const existing = c ? Object.keys(c.properties).sort() : [];
  return (
    <main id="main" tabIndex={-1}>
      <p>
        <a href={c ? href({ name: 'case', caseId: c.caseId }) : '#/forms'}>← Back</a>
      </p>
      <h1>Update a case</h1>
      <form
        class="card stack"
        noValidate
        onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          if (!c) {
            setError('Choose a case first.');
            return;
          }
          const bad = propertyNameError(property.trim());
          if (bad) {
            setError(bad);
            return;
          }
          try {
            await saveForm(
              updateCase({
                caseId: c.caseId,
                caseName: c.caseName,
                property: property.trim(),
                value,
              }),
            );
            setSaved(c.caseId);
          } catch (err) {
            setError(describeError(err));
          }
        }}
      >
        {c ? (
          <p>
            Case: <strong>{c.caseName}</strong> <span class="muted">({c.caseType})</span>
          </p>
        ) : (
          <CasePicker selected={c} onSelect={setC} openOnly={false} />
        )}
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
        {error && (
          <p role="alert" class="field-error">
            {error}
          </p>
        )}
        <div class="row">
          <button type="submit">Save form</button>
        </div>
      </form>
      {saved && <Saved what="Case updated." caseId={saved} />}
    </main>
  );
}

export function CloseCaseForm({ caseId }: { caseId?: string | undefined }) {
  const [c, setC] = useCase(caseId);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const b = backend.value;
  if (!b) return null;
  return (
    <main id="main" tabIndex={-1}>
      <p>
        <a href={c ? href({ name: 'case', caseId: c.caseId }) : '#/forms'}>← Back</a>
      </p>
      <h1>Close a case</h1>
      <form
        class="card stack"
        noValidate
        onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          if (!c) {
            setError('Choose a case first.');
            return;
          }
          if (c.closed) {
            setError('This case is already closed.');
            return;
          }
          try {
            await saveForm(
              closeCase({
                caseId: c.caseId,
                caseName: c.caseName,
                reason,
              }),
            );
            navigate({ name: 'case', caseId: c.caseId });
          } catch (err) {
            setError(describeError(err));
          }
        }}
      >
        {c ? (
          <p>
            Case: <strong>{c.caseName}</strong> <span class="muted">({c.caseType})</span>
          </p>
        ) : (
          <CasePicker selected={c} onSelect={setC} openOnly={true} />
        )}
        <label>
          Reason for closing
          <input value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
        </label>
        {error && (
          <p role="alert" class="field-error">
            {error}
          </p>
        )}
        <div class="row">
          <button type="submit">Close case</button>
        </div>
      </form>
    </main>
  );
}
