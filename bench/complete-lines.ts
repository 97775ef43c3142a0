/**
 * The complete lines of a file another process is still appending to: a line counts only
 * once its newline is written. Reading the last, unterminated segment as a line is how
 * the forwarding bench crashed (JSON.parse of half a sink record).
 */
export function completeLines(text: string): string[] {
  const end = text.lastIndexOf('\n');
  if (end < 0) return [];
  return text
    .slice(0, end)
    .split('\n')
    .filter((line) => line !== '');
}
