import type { ComponentChildren } from 'preact';

/**
 * CommCare's markdown labels (itext `form="markdown"`, commcare-android `MarkupUtil`)
 * rendered as a safe subset: `**bold**`, `*italic*` / `_italic_`, `[text](url)` shown as
 * its text, line breaks. Everything becomes Preact text nodes and elements: no HTML from
 * the form is ever injected.
 */
export function MarkdownText({ text }: { text: string }) {
  const lines = text.split(/\r?\n/);
  const out: ComponentChildren[] = [];
  lines.forEach((line, i) => {
    if (i > 0) out.push(<br key={`br${i}`} />);
    out.push(...inline(line, `l${i}`));
  });
  return <>{out}</>;
}

const TOKEN = /\*\*(.+?)\*\*|__(.+?)__|\*(.+?)\*|_(.+?)_|\[([^\]]+)\]\(([^)\s]+)\)/;

function inline(text: string, key: string): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  let rest = text;
  let n = 0;
  while (rest !== '') {
    const m = TOKEN.exec(rest);
    if (!m) {
      out.push(rest);
      break;
    }
    if (m.index > 0) out.push(rest.slice(0, m.index));
    const k = `${key}-${n++}`;
    const bold = m[1] ?? m[2];
    const italic = m[3] ?? m[4];
    if (bold !== undefined) out.push(<strong key={k}>{inline(bold, k)}</strong>);
    else if (italic !== undefined) out.push(<em key={k}>{inline(italic, k)}</em>);
    else out.push(<span key={k}>{m[5]}</span>);
    rest = rest.slice(m.index + m[0].length);
  }
  return out;
}
