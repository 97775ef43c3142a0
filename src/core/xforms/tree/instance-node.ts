/**
 * The instance tree the XPath evaluator walks and the form model writes: one tree per
 * instance (the form's primary instance, casedb, session, each fixture). Like JavaRosa's
 * TreeElement, an element holds either child elements or a text value, never mixed
 * content, so a node's string value is its own `value` for a leaf and the concatenation
 * of its descendants' values otherwise.
 *
 * The fields below are the contract between the XPath evaluator and the form model; the
 * model may add state of its own, the evaluator reads only these.
 */
export class InstanceNode {
  readonly kind: 'document' | 'element';
  /** Local name; `#document` for a document node. */
  name: string;
  /** Namespace URI, `''` when none. */
  namespace: string;
  /** Prefix to write when serializing, `''` for none or the default namespace. */
  prefix: string;
  parent: InstanceNode | null = null;
  children: InstanceNode[] = [];
  attributes: InstanceAttribute[] = [];
  /** Text of a leaf element as stored, whatever the node's relevance. */
  storedValue = '';
  /**
   * Model state the form engine keeps per node (the XPath evaluator ignores these): the
   * node's own relevant/required/readonly condition results (inheritance is applied by the
   * model), and the namespace declarations written on this element in the source form so
   * serialization repeats them.
   */
  selfRelevant = true;
  required = false;
  selfReadonly = false;
  nsDecls: Record<string, string> | undefined = undefined;

  constructor(kind: 'document' | 'element', name: string, namespace = '', prefix = '') {
    this.kind = kind;
    this.name = name;
    this.namespace = namespace;
    this.prefix = prefix;
  }

  /**
   * Text of a leaf element as XPath reads it: empty while the node or an ancestor is not
   * relevant, as on the phone (commcare-core XPathPathExpr.getRefValue reads a
   * non-relevant node as blank). The stored text stays in `storedValue` and comes back
   * when the node is relevant again. Writing sets the stored text.
   */
  get value(): string {
    const v = this.storedValue;
    if (v === '') return v;
    for (let n: InstanceNode | null = this; n !== null; n = n.parent) if (!n.selfRelevant) return '';
    return v;
  }

  set value(v: string) {
    this.storedValue = v;
  }

  /** Whether this node and all its ancestors are relevant. */
  isRelevant(): boolean {
    for (let n: InstanceNode | null = this; n !== null; n = n.parent) if (!n.selfRelevant) return false;
    return true;
  }

  static document(): InstanceNode {
    return new InstanceNode('document', '#document');
  }

  appendChild(child: InstanceNode): InstanceNode {
    child.parent = this;
    this.children.push(child);
    return child;
  }

  setAttribute(name: string, value: string, namespace = '', prefix = ''): InstanceAttribute {
    for (const a of this.attributes) {
      if (a.name === name && a.namespace === namespace) {
        a.value = value;
        return a;
      }
    }
    const a = new InstanceAttribute(this, name, value, namespace, prefix);
    this.attributes.push(a);
    return a;
  }

  getAttribute(name: string): string | undefined {
    for (const a of this.attributes) if (a.name === name) return a.value;
    return undefined;
  }

  /** The document element (for a document) or the first child element with this name. */
  child(name: string): InstanceNode | undefined {
    for (const c of this.children) if (c.name === name) return c;
    return undefined;
  }

  /** XPath string value. */
  stringValue(): string {
    if (this.children.length === 0) return this.value;
    let s = '';
    for (const c of this.children) s += c.stringValue();
    return s;
  }

  /** Deep copy without a parent (repeat instances are copied from their template). */
  clone(): InstanceNode {
    const n = new InstanceNode(this.kind, this.name, this.namespace, this.prefix);
    n.storedValue = this.storedValue;
    if (this.nsDecls) n.nsDecls = { ...this.nsDecls };
    for (const a of this.attributes)
      n.attributes.push(new InstanceAttribute(n, a.name, a.storedValue, a.namespace, a.prefix));
    for (const c of this.children) n.appendChild(c.clone());
    return n;
  }
}

export class InstanceAttribute {
  readonly kind = 'attribute' as const;
  readonly owner: InstanceNode;
  name: string;
  namespace: string;
  prefix: string;
  /** The attribute's text as stored, whatever its element's relevance. */
  storedValue: string;

  constructor(owner: InstanceNode, name: string, value: string, namespace = '', prefix = '') {
    this.owner = owner;
    this.name = name;
    this.storedValue = value;
    this.namespace = namespace;
    this.prefix = prefix;
  }

  /** As XPath reads it: empty while its element is not relevant (see InstanceNode.value). */
  get value(): string {
    const v = this.storedValue;
    return v === '' || this.owner.isRelevant() ? v : '';
  }

  set value(v: string) {
    this.storedValue = v;
  }

  stringValue(): string {
    return this.value;
  }
}

/** What an XPath node-set holds. */
export type XPathNode = InstanceNode | InstanceAttribute;
