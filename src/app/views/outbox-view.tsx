import { useState } from 'preact/hooks';
import type { OutboxItem, OutboxState } from '../../core/sync/session-types.ts';
import { appsFor } from '../apps/app-forms-view.tsx';
import { AppDraftResume } from '../commcare/app-draft-resume.tsx';
import {
  backend,
  busy,
  canSend,
  exportOutbox,
  importOutbox,
  lastSendReport,
  outboxItems,
  outboxStatus,
  plainExport,
  quarantineForm,
  retryForm,
  trySend,
} from '../state/app-state.ts';
import { describeError } from '../state/describe-error.ts';
import { href } from '../state/router.ts';
import { formatTime } from './home-view.tsx';
import { formatBytes } from './restore-progress.tsx';

export const STATE_LABEL: Record<OutboxState, string> = {
  incomplete: 'Incomplete',
  queued: 'Waiting to send',
  sending: 'Sending',
  sent: 'Sent',
  quarantined: 'Quarantined',
};

const QUARANTINE_LABEL: Record<NonNullable<OutboxItem['quarantineReason']>, string> = {
  'processing-failure': 'the server could not process it',
  'too-large': 'it is larger than the server accepts',
  rejected: 'the server rejected it',
  conflict: 'it conflicts with data on the server',
  manual: 'it was set aside by hand',
};

function XmlViewer({ instanceId }: { instanceId: string }) {
  const [xml, setXml] = useState<string | null>(null);
  return (
    <details
      onToggle={(e) => {
        if (e.currentTarget.open && xml === null) {
          void backend.value?.outboxXml(instanceId).then((x) => setXml(x ?? '(the XML is no longer kept)'));
        }
      }}
    >
      <summary>View XML</summary>
      <pre class="xml">{xml ?? 'Loading…'}</pre>
    </details>
  );
}

function WaitReason() {
  const waiting = outboxItems.value.some((i) => i.state === 'queued');
  const { paused, nextAttemptAt } = outboxStatus.value;
  if (!waiting) return null;
  if (!canSend.value) return null; // the "Log in to send" banner says why
  if (paused) {
    return (
      <p class="banner warn" role="status">
        Sending is paused: {paused.message} Log out and in again to resume; nothing is lost.
      </p>
    );
  }
  if (nextAttemptAt > Date.now()) {
    return (
      <p class="banner warn" role="status">
        The last attempt failed; the next automatic attempt is at{' '}
        {new Date(nextAttemptAt).toLocaleTimeString()}. "Send now" tries at once.
      </p>
    );
  }
  return null;
}

function Transfer() {
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  return (
    <section class="card stack" aria-labelledby="transfer-h">
      <h2 id="transfer-h">Move forms between devices</h2>
      <div class="row" style={{ alignItems: 'center' }}>
        <button
          type="button"
          class="secondary"
          onClick={async () => {
            try {
              const name = await exportOutbox();
              setMessage({ error: false, text: `Saved ${name}.` });
            } catch (e) {
              setMessage({ error: true, text: describeError(e) });
            }
          }}
        >
          Export unsent forms
        </button>
        <label style={{ flexDirection: 'row', fontWeight: 400, flex: '0 0 auto', gap: '0.4em' }}>
          <input
            type="checkbox"
            checked={plainExport.value}
            onChange={(e) => {
              plainExport.value = e.currentTarget.checked;
            }}
          />
          Plain export (not encrypted)
        </label>
        <label class="button secondary" style={{ flexDirection: 'row', fontWeight: 400, flex: '0 0 auto' }}>
          Import forms
          <input
            type="file"
            accept="application/json,.json"
            class="visually-hidden"
            onChange={async (e) => {
              const file = e.currentTarget.files?.[0];
              e.currentTarget.value = '';
              if (!file) return;
              try {
                setMessage({ error: false, text: await importOutbox(file) });
              } catch (err) {
                setMessage({ error: true, text: describeError(err) });
              }
            }}
          />
        </label>
      </div>
      {message && (
        <p role={message.error ? 'alert' : 'status'} class={message.error ? 'field-error' : 'muted'}>
          {message.text}
        </p>
      )}
    </section>
  );
}

export function OutboxView() {
  const items = [...outboxItems.value].sort((a, b) => a.seq - b.seq);
  const waiting = items.filter((i) => i.state !== 'sent');
  const sent = items.filter((i) => i.state === 'sent');
  const report = lastSendReport.value;
  return (
    <main id="main" tabIndex={-1}>
      <div class="row" style={{ justifyContent: 'space-between', alignItems: 'center' }}>
        <h1>Outbox</h1>
        <button
          type="button"
          class="secondary"
          disabled={!canSend.value || busy.value !== null}
          onClick={() => void trySend('manual')}
        >
          Send now
        </button>
      </div>
      <p class="muted">
        Forms are sent in order, oldest first. A form that cannot be sent yet stays here and blocks the ones
        after it; nothing is deleted before the server confirms it.
      </p>
      <WaitReason />
      {report?.stoppedBy && (
        <p class="banner warn" role="status">
          Last attempt stopped: {report.stoppedBy.message}
        </p>
      )}
      <section aria-labelledby="waiting-h">
        <h2 id="waiting-h">Not sent ({waiting.length})</h2>
        {waiting.length === 0 ? (
          <p class="muted">Nothing is waiting. Every form on this device has been sent.</p>
        ) : (
          <ol class="outbox" aria-label="Forms not sent">
            {waiting.map((i) => (
              <OutboxRow key={i.instanceId} item={i} />
            ))}
          </ol>
        )}
      </section>
      {sent.length > 0 && (
        <section aria-labelledby="sent-h">
          <h2 id="sent-h">Sent ({sent.length})</h2>
          <ol class="outbox" aria-label="Forms sent">
            {[...sent].reverse().map((i) => (
              <OutboxRow key={i.instanceId} item={i} />
            ))}
          </ol>
        </section>
      )}
      <Transfer />
    </main>
  );
}

/** An incomplete form reopens in its application form, found by xmlns. */
function ResumeLink({ item }: { item: OutboxItem }) {
  const b = backend.value;
  if (!b) return null;
  for (const app of appsFor(b.info.domain)) {
    for (const m of app.modules) {
      const f = m.forms.find((x) => x.xmlns === item.xmlns);
      if (f) {
        return (
          <div>
            <a
              class="button secondary"
              href={href({ name: 'app-form', appId: app.id, formId: f.uniqueId, draft: item.instanceId })}
              aria-label={`Resume form ${item.seq}`}
            >
              Resume
            </a>
          </div>
        );
      }
    }
  }
  return <p class="muted">Load the application on the Forms screen to resume this form.</p>;
}

function OutboxRow({ item }: { item: OutboxItem }) {
  return (
    <li data-state={item.state} aria-label={`Form ${item.seq}: ${item.formName}, ${STATE_LABEL[item.state]}`}>
      <div class="head">
        <span class="seq">#{item.seq}</span>
        <span class="title">{item.formName}</span>
        <span class={`badge ${item.state}`}>{STATE_LABEL[item.state]}</span>
      </div>
      <div class="muted">
        Saved {formatTime(item.createdAt)}
        {item.sentAt ? ` · sent ${formatTime(item.sentAt)}` : ''} · {formatBytes(item.size)}
        {item.attempts > 0 ? ` · ${item.attempts} attempt${item.attempts === 1 ? '' : 's'}` : ''}
      </div>
      {item.lastError && (
        <div class={item.state === 'quarantined' ? 'field-error' : 'note'}>Last error: {item.lastError}</div>
      )}
      {item.state === 'quarantined' && (
        <div>
          Quarantined because{' '}
          {item.quarantineReason ? QUARANTINE_LABEL[item.quarantineReason] : 'of an error'}
          {item.serverMessage && item.quarantineReason !== 'manual' ? `: ${item.serverMessage}` : '.'}{' '}
          <button
            type="button"
            class="secondary"
            aria-label={`Retry form ${item.seq}`}
            onClick={() => void retryForm(item.instanceId)}
          >
            Retry
          </button>
        </div>
      )}
      {item.state === 'incomplete' && <AppDraftResume item={item} fallback={<ResumeLink item={item} />} />}
      {item.state === 'queued' && (
        <div>
          <button
            type="button"
            class="secondary"
            aria-label={`Set aside form ${item.seq}`}
            onClick={() => void quarantineForm(item.instanceId)}
          >
            Set aside
          </button>{' '}
          <span class="muted">Lets the forms after it go; you can retry it later.</span>
        </div>
      )}
      <XmlViewer instanceId={item.instanceId} />
    </li>
  );
}
