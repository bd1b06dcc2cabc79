/**
 * Quoting an error inside a sentence of our own: "Sign-in did not complete: <first line>. Call the
 * tool again." Only the first line (a stack or a server's long body stays out of a user's view), at
 * most 200 characters, without its closing full stop (the sentence adds its own).
 *
 * @example firstLine(new Error('AADSTS50173: The grant was revoked.\nTrace ID: …')) // 'AADSTS50173: The grant was revoked'
 */
export function firstLine(error: unknown): string {
  const message = String(error instanceof Error ? error.message : error).split('\n')[0]!.trim().slice(0, 200);
  return message.replace(/\.$/, '') || 'no details';
}
