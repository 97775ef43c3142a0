import { NS } from '../../core/protocol/namespaces.ts';
import { walk, type XNode } from './xml-tree.ts';

/** One `<case>` block as HQ's V2 parser sees it (hq:.../casexml/apps/case/xml/parser.py). */
export interface ParsedCaseBlock {
  /** `undefined` when the attribute is missing (CaseGenerationException on HQ). */
  caseId: string | undefined;
  dateModified: string | undefined;
  userId: string | undefined;
  create: Map<string, string> | undefined;
  update: Map<string, string> | undefined;
  close: boolean;
  index: {
    identifier: string;
    caseType: string | undefined;
    target: string;
    relationship: string | undefined;
  }[];
  attachment: { name: string; src?: string; from?: string; fileName?: string }[] | undefined;
  usesReferrals: boolean;
  /** Lowest action rank in HQ's `order_updates` sense (create 0 ... attachment 4). */
  rank: number;
}

/**
 * A ledger report in a form (`<balance>` or `<transfer>` in the ledger/v1 namespace,
 * `core:.../xml/LedgerXmlParsers.java`, hq:corehq/apps/commtrack/xmlutil): a balance
 * sets each entry's quantity for (entity, section); a transfer moves quantities from
 * `src` to `dest`.
 */
export interface LedgerReport {
  kind: 'balance' | 'transfer';
  entityId: string;
  src: string;
  dest: string;
  sectionId: string;
  date: string | undefined;
  entries: { id: string | undefined; quantity: number }[];
}

export interface FormMeta {
  instanceID?: string;
  userID?: string;
  username?: string;
  deviceID?: string;
  timeStart?: string;
  timeEnd?: string;
  appVersion?: string;
  location?: string;
  deprecatedID?: string;
}

export interface ParsedForm {
  root: XNode;
  /** The root element's namespace; '' means missing (HQ: 500, PROTOCOL.md 6). */
  xmlns: string;
  meta: FormMeta;
  isDeviceReport: boolean;
  caseBlocks: ParsedCaseBlock[];
  /** Case blocks without the V2 namespace (CaseXML 1.0), which HQ's SQL backend refuses. */
  v1Blocks: number;
  ledgers: LedgerReport[];
}

/**
 * Old capitalised meta names are normalised as HQ's `scrub_meta` does
 * (hq:corehq/form_processor/utils/xform.py); `uid` is the legacy instanceID.
 */
const META_KEYS: Record<string, keyof FormMeta> = {
  instanceid: 'instanceID',
  uid: 'instanceID',
  userid: 'userID',
  chw_id: 'userID',
  username: 'username',
  deviceid: 'deviceID',
  timestart: 'timeStart',
  timeend: 'timeEnd',
  appversion: 'appVersion',
  location: 'location',
  deprecatedid: 'deprecatedID',
};

function readMeta(root: XNode): FormMeta {
  const meta: FormMeta = {};
  const node = root.children.find((c) => c.local === 'meta' || c.local === 'Meta');
  if (!node) return meta;
  for (const c of node.children) {
    const key = META_KEYS[c.local.toLowerCase()];
    if (key && meta[key] === undefined) meta[key] = c.text.trim();
  }
  return meta;
}

/**
 * HQ's action ranks for ordering several blocks of one case (`order_updates` in
 * hq:.../casexml/apps/case/xform.py): create, update, index, close, attachment.
 */
const RANK: Record<string, number> = { create: 0, update: 1, index: 2, close: 3, attachment: 4 };

/**
 * `_normalize` in HQ's parser keeps the last of repeated elements
 * (test `duplicate_case_properties_2`); values are kept as sent, not trimmed.
 */
function fields(node: XNode): Map<string, string> {
  const m = new Map<string, string>();
  for (const c of node.children) m.set(c.local, c.children.length > 0 ? '' : c.text);
  return m;
}

function parseCaseBlock(node: XNode): ParsedCaseBlock {
  const block: ParsedCaseBlock = {
    caseId: node.attrs.case_id,
    dateModified: node.attrs.date_modified,
    userId: node.attrs.user_id,
    create: undefined,
    update: undefined,
    close: false,
    index: [],
    attachment: undefined,
    usesReferrals: false,
    rank: 99,
  };
  for (const c of node.children) {
    const r = Object.hasOwn(RANK, c.local) ? RANK[c.local] : undefined;
    if (r !== undefined) block.rank = Math.min(block.rank, r);
    switch (c.local) {
      case 'create': {
        const f = fields(c);
        block.create = block.create ? new Map([...block.create, ...f]) : f;
        break;
      }
      case 'update': {
        const f = fields(c);
        block.update = block.update ? new Map([...block.update, ...f]) : f;
        break;
      }
      case 'close':
        block.close = true;
        break;
      case 'index':
        for (const i of c.children)
          block.index.push({
            identifier: i.local,
            caseType: i.attrs.case_type,
            target: i.text.trim(),
            relationship: i.attrs.relationship,
          });
        break;
      case 'attachment':
        block.attachment ??= [];
        for (const a of c.children) {
          const entry: { name: string; src?: string; from?: string; fileName?: string } = { name: a.local };
          if (a.attrs.src !== undefined) entry.src = a.attrs.src;
          if (a.attrs.from !== undefined) entry.from = a.attrs.from;
          if (a.attrs.name !== undefined) entry.fileName = a.attrs.name;
          block.attachment.push(entry);
        }
        break;
      case 'referral':
        block.usesReferrals = true;
        break;
      // Pre-2.0 style children some old V2 forms carry (multicase/parallel_cases.xml).
      case 'date_modified':
        block.dateModified ??= c.text.trim();
        break;
      case 'user_id':
        block.userId ??= c.text.trim();
        break;
      default:
        break;
    }
  }
  return block;
}

/**
 * Reads what HQ needs from a parsed form: root xmlns, meta, and every case block at any
 * depth (groups, repeats), skipping device-report sub-documents (`extract_case_blocks`,
 * hq:.../casexml/apps/case/xform.py).
 */
export function readForm(root: XNode): ParsedForm {
  const isDeviceReport = root.ns === NS.deviceReport;
  const caseBlocks: ParsedCaseBlock[] = [];
  const ledgers: LedgerReport[] = [];
  let v1Blocks = 0;
  if (!isDeviceReport) {
    walk(root, (n) => {
      if (n !== root && n.ns === NS.deviceReport) return false;
      if (n.local === 'case' && n.ns === NS.caseV2) {
        caseBlocks.push(parseCaseBlock(n));
        return false;
      }
      if (n.ns === NS.ledger && (n.local === 'balance' || n.local === 'transfer')) {
        ledgers.push({
          kind: n.local,
          entityId: n.attrs['entity-id'] ?? '',
          src: n.attrs.src ?? '',
          dest: n.attrs.dest ?? '',
          sectionId: n.attrs['section-id'] ?? '',
          date: n.attrs.date,
          entries: n.children
            .filter((e) => e.local === 'entry')
            .map((e) => ({ id: e.attrs.id, quantity: Number(e.attrs.quantity ?? '0') })),
        });
        return false;
      }
      // `get_version`: a block without xmlns is CaseXML 1.0 (hq:.../case/xml/__init__.py).
      if (n.local === 'case' && n.ns === '' && n !== root) {
        v1Blocks++;
        return false;
      }
      return true;
    });
  }
  return { root, xmlns: root.ns, meta: readMeta(root), isDeviceReport, caseBlocks, v1Blocks, ledgers };
}
