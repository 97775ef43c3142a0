import { InstanceNode } from '../xforms/tree/instance-node.ts';

/** One stock balance: what a restore's `<balance>` left for (entity, section, entry). */
export interface LedgerBalanceRow {
  entityId: string;
  sectionId: string;
  entryId: string;
  quantity: number;
}

/**
 * `jr://instance/ledgerdb` as the phone lays it out (commcare-core
 * `LedgerInstanceTreeElement` / `LedgerChildElement`):
 * `<ledgerdb><ledger entity-id><section section-id><entry id>quantity</entry>...`,
 * so CommTrack forms read `instance('ledger')/ledgerdb/ledger[@entity-id=..]/section[@section-id='stock']/entry[@id=..]`.
 * A device without ledgers gets an empty `<ledgerdb/>`, as on the phone.
 */
export function buildLedgerInstance(rows: readonly LedgerBalanceRow[]): InstanceNode {
  const doc = InstanceNode.document();
  const root = doc.appendChild(new InstanceNode('element', 'ledgerdb'));
  const ledgers = new Map<string, { node: InstanceNode; sections: Map<string, InstanceNode> }>();
  for (const r of rows) {
    let ledger = ledgers.get(r.entityId);
    if (ledger === undefined) {
      const node = root.appendChild(new InstanceNode('element', 'ledger'));
      node.setAttribute('entity-id', r.entityId);
      ledger = { node, sections: new Map() };
      ledgers.set(r.entityId, ledger);
    }
    let section = ledger.sections.get(r.sectionId);
    if (section === undefined) {
      section = ledger.node.appendChild(new InstanceNode('element', 'section'));
      section.setAttribute('section-id', r.sectionId);
      ledger.sections.set(r.sectionId, section);
    }
    const entry = section.appendChild(new InstanceNode('element', 'entry'));
    entry.setAttribute('id', r.entryId);
    entry.value = String(r.quantity);
  }
  return doc;
}
