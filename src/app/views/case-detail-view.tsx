import { useSignalEffect } from '@preact/signals';
import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import type { CaseRecord } from '../../core/protocol/casexml/case-types.ts';
import { CaseAppForms } from '../commcare/lazy-views.tsx';
import { backend, caseVersion, outboxItems } from '../state/app-state.ts';
import { ownerLabel } from '../state/owner-names.ts';
import { href } from '../state/router.ts';

interface Loaded {
  c: CaseRecord | undefined;
  parents: { identifier: string; caseId: string; c: CaseRecord | undefined }[];
  children: CaseRecord[];
  owners: Map<string, string>;
}

/** One case: its fields and properties (always as text), parents and children as links. */
export function CaseDetailView({ caseId }: { caseId: string }) {
  const [data, setData] = useState<Loaded | null>(null);
  useSignalEffect(() => {
    void caseVersion.value;
    const b = backend.value;
    if (!b) return;
    void (async () => {
      const c = await b.getCase(caseId);
      const parents = c
        ? await Promise.all(
            c.indices.map(async (ix) => ({
              identifier: ix.identifier,
              caseId: ix.caseId,
              c: await b.getCase(ix.caseId),
            })),
          )
        : [];
      const children = c ? await b.children(caseId) : [];
      const owners = await b.ownerNames();
      setData({ c, parents, children, owners });
    })();
  });
  if (!data) return <main id="main">Loading…</main>;
  const c = data.c;
  if (!c) {
    return (
      <main id="main" tabIndex={-1}>
        <h1>Case not found</h1>
        <p>This case is not on this device (it may have been purged by a sync).</p>
        <a href="#/cases">Back to cases</a>
      </main>
    );
  }
  const owners = data.owners;
  const forms = outboxItems.value.filter((f) => f.caseIds.includes(c.caseId));
  const props = Object.entries(c.properties).sort(([a], [b]) => a.localeCompare(b));
  return (
    <main id="main" tabIndex={-1}>
      <p>
        <a href="#/cases">← Cases</a>
      </p>
      <div class="row" style={{ alignItems: 'center' }}>
        <h1 style={{ margin: 0, overflowWrap: 'anywhere' }}>{c.caseName || '(no name)'}</h1>
        <span class={`badge ${c.closed ? 'closed' : 'open'}`}>{c.closed ? 'closed' : 'open'}</span>
      </div>
      <div class="row">
        <a class="button" href={href({ name: 'form', form: 'update', caseId: c.caseId })}>
          Update a property
        </a>
        {!c.closed && (
          <a class="button secondary" href={href({ name: 'form', form: 'close', caseId: c.caseId })}>
            Close case
          </a>
        )}
      </div>
      <section class="card" aria-labelledby="fields-h">
        <h2 id="fields-h">Case</h2>
        <dl class="props">
          <dt>Type</dt>
          <dd>{c.caseType}</dd>
          <dt>Case ID</dt>
          <dd>{c.caseId}</dd>
          <dt>Owner</dt>
          <dd>
            {ownerLabel(owners, c.ownerId)}
            {owners.has(c.ownerId) && <span class="muted"> ({c.ownerId})</span>}
          </dd>
          <dt>Opened</dt>
          <dd>{c.dateOpened || '—'}</dd>
          <dt>Last modified</dt>
          <dd>{c.lastModified || '—'}</dd>
          {c.externalId && (
            <>
              <dt>External ID</dt>
              <dd>{c.externalId}</dd>
            </>
          )}
        </dl>
      </section>
      <section class="card" aria-labelledby="props-h">
        <h2 id="props-h">Properties</h2>
        {props.length === 0 ? (
          <p class="muted">No properties.</p>
        ) : (
          <dl class="props" aria-label="Properties">
            {props.map(([k, v]) => (
              <Fragment key={k}>
                <dt>{k}</dt>
                <dd>{v}</dd>
              </Fragment>
            ))}
          </dl>
        )}
      </section>
      <section class="card" aria-labelledby="rel-h">
        <h2 id="rel-h">Related cases</h2>
        <h3>Parents</h3>
        {data.parents.length === 0 ? (
          <p class="muted">None.</p>
        ) : (
          <ul class="links">
            {data.parents.map((p) => (
              <li key={p.identifier}>
                {p.identifier}:{' '}
                <a href={href({ name: 'case', caseId: p.caseId })}>{p.c ? p.c.caseName : p.caseId}</a>
                {!p.c && <span class="muted"> (not on this device)</span>}
              </li>
            ))}
          </ul>
        )}
        <h3>Children</h3>
        {data.children.length === 0 ? (
          <p class="muted">None.</p>
        ) : (
          <ul class="links">
            {data.children.map((ch) => (
              <li key={ch.caseId}>
                <a href={href({ name: 'case', caseId: ch.caseId })}>{ch.caseName || ch.caseId}</a>{' '}
                <span class="muted">({ch.caseType})</span>
              </li>
            ))}
          </ul>
        )}
      </section>
      {c.attachments.length > 0 && (
        <section class="card" aria-labelledby="att-h">
          <h2 id="att-h">Attachments</h2>
          <ul class="links">
            {c.attachments.map((a) => (
              <li key={a.name}>
                {a.name}
                {a.fileName ? ` (${a.fileName})` : ''}
              </li>
            ))}
          </ul>
        </section>
      )}
      <section class="card" aria-labelledby="forms-h">
        <h2 id="forms-h">Forms on this device that touched this case</h2>
        {forms.length === 0 ? (
          <p class="muted">None.</p>
        ) : (
          <ul class="links">
            {forms.map((f) => (
              <li key={f.instanceId}>
                #{f.seq} {f.formName} <span class={`badge ${f.state}`}>{f.state}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
      <CaseAppForms caseId={caseId} />
    </main>
  );
}
