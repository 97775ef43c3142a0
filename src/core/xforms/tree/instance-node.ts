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
  /** Text of a leaf element. */
  value = '';
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
    n.value = this.value;
    if (this.nsDecls) n.nsDecls = { ...this.nsDecls };
    for (const a of this.attributes)
      n.attributes.push(new InstanceAttribute(n, a.name, a.value, a.namespace, a.prefix));
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
  value: string;

  constructor(owner: InstanceNode, name: string, value: string, namespace = '', prefix = '') {
    this.owner = owner;
    this.name = name;
    this.value = value;
    this.namespace = namespace;
    this.prefix = prefix;
  }

  stringValue(): string {
    return this.value;
  }
}

/** What an XPath node-set holds. */
export type XPathNode = InstanceNode | InstanceAttribute;
