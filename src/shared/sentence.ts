/**
 * A message as a sentence for lab staff: a capital first letter and a full stop. Server and
 * engine messages are written lower-case so they read well after a prefix in logs
 * ("ingest failed: not a TIFF file"); the client shows them on their own, so it makes them
 * sentences in one place (src/upload/api-request.ts) instead of every server message changing.
 */
export function sentence(message: string): string {
  const m = message.trim();
  if (!m) return m;
  const capital = m.charAt(0).toUpperCase() + m.slice(1);
  return /[.!?…)]$/.test(capital) ? capital : `${capital}.`;
}
