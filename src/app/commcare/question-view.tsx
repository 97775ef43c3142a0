import type { ComponentChildren } from 'preact';
import type { QuestionState } from '../../core/xforms/form-session-types.ts';
import { MarkdownText } from './markdown-text.tsx';

/** A DOM id for a question ref (`/data/rep[2]/q` -> `q-data-rep-2--q`). */
export const questionId = (ref: string): string => `q${ref.replace(/[^A-Za-z0-9_-]/g, '-')}`;

export interface QuestionProps {
  q: QuestionState;
  /** The text shown: what was typed when the engine refused it, else the stored value. */
  value: string;
  error: string | undefined;
  onAnswer: (value: string | string[]) => void;
}

function Label({ q }: { q: QuestionState }) {
  return (
    <span>
      {q.labelMarkdown !== undefined ? <MarkdownText text={q.labelMarkdown} /> : q.label}
      {q.required && <span aria-hidden="true"> *</span>}
    </span>
  );
}

/** HTML input types for XForm data types; numbers stay text so the engine judges what was typed. */
function inputType(q: QuestionState): { type: string; inputMode?: string } {
  if (q.kind === 'secret') return { type: 'password' };
  switch (q.dataType) {
    case 'int':
    case 'integer':
    case 'long':
    case 'short':
      return { type: 'text', inputMode: 'numeric' };
    case 'decimal':
    case 'double':
    case 'float':
      return { type: 'text', inputMode: 'decimal' };
    case 'date':
      return { type: 'date' };
    case 'time':
      return { type: 'time' };
    case 'dateTime':
      return { type: 'datetime-local' };
    default:
      return { type: 'text' };
  }
}

/**
 * One question of an installed app's form, as Web Apps shows it: its label (markdown as
 * a safe subset, `<output>` values already in), hint, required mark, and the form's own
 * message next to it when the answer is refused or missing.
 */
export function QuestionView({ q, value, error, onAnswer }: QuestionProps) {
  const id = questionId(q.ref);
  const hintId = q.hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  const hint = q.hint && (
    <span id={hintId} class="hint">
      {q.hint}
    </span>
  );
  const err = error && (
    <span id={errorId} class="field-error">
      {error}
    </span>
  );
  if (q.kind === 'trigger') {
    return (
      <div class="note-q" id={id}>
        <Label q={q} />
        {hint}
      </div>
    );
  }
  if (q.kind === 'upload') {
    return (
      <div class="note-q" id={id}>
        <Label q={q} />
        <span class="muted">Attachments ({q.mediatype ?? 'file'}) cannot be captured in fieldsim yet.</span>
      </div>
    );
  }
  if (q.kind === 'select1' || q.kind === 'select') {
    const multi = q.kind === 'select';
    const selected = value.split(' ').filter((v) => v !== '');
    return (
      <fieldset
        class="choices"
        id={id}
        aria-describedby={describedBy}
        {...(multi
          ? {}
          : {
              role: 'radiogroup',
              'aria-invalid': error ? true : undefined,
              'aria-required': q.required || undefined,
            })}
      >
        <legend>
          <Label q={q} />
        </legend>
        {hint}
        {(q.choices ?? []).map((c) => (
          <label key={c.value} class="choice">
            <input
              type={multi ? 'checkbox' : 'radio'}
              name={id}
              value={c.value}
              disabled={q.readonly}
              checked={selected.includes(c.value)}
              onChange={(e) => {
                if (!multi) onAnswer(c.value);
                else
                  onAnswer(
                    e.currentTarget.checked ? [...selected, c.value] : selected.filter((s) => s !== c.value),
                  );
              }}
            />
            {c.label}
          </label>
        ))}
        {!multi && selected.length > 0 && !q.readonly && (
          <button type="button" class="secondary clear-choice" onClick={() => onAnswer('')}>
            Clear
          </button>
        )}
        {err}
      </fieldset>
    );
  }
  const t = inputType(q);
  return (
    // The label names the input alone: the hint and the message are its description.
    <div class="q-field" id={id}>
      {/* The star stays outside the label so the input's name is the label alone. */}
      <span>
        <label for={`${id}-input`} style={{ display: 'inline' }}>
          {q.labelMarkdown !== undefined ? <MarkdownText text={q.labelMarkdown} /> : q.label}
        </label>
        {q.required && <span aria-hidden="true"> *</span>}
      </span>
      {hint}
      <input
        id={`${id}-input`}
        type={t.type}
        inputMode={t.inputMode}
        value={value}
        readOnly={q.readonly}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
        aria-required={q.required || undefined}
        onInput={(e) => onAnswer(e.currentTarget.value)}
      />
      {err}
    </div>
  );
}

/** A group or field-list: its questions under one legend (nothing when not relevant). */
export function GroupView({ q, children }: { q: QuestionState; children: ComponentChildren }) {
  if (!q.label) return <div class="stack">{children}</div>;
  return (
    <fieldset class="group stack">
      <legend>{q.labelMarkdown !== undefined ? <MarkdownText text={q.labelMarkdown} /> : q.label}</legend>
      {children}
    </fieldset>
  );
}
