/**
 * A local outbox: "sending" an e-mail stores it here, so nothing ever leaves the machine.
 *
 * The outbox does not validate addresses; whoever accepts mail from outside (an MCP tool's input
 * schema, the Graph fake) does that at its own boundary.
 */

/** A message someone asked us to send. */
export interface OutgoingMail {
  to: string;
  subject: string;
  body: string;
  /** The sender, when known (e.g. the signed-in user in later lessons). */
  from?: string;
}

/** A message the outbox accepted. */
export interface SentMail extends OutgoingMail {
  /** Unique within this outbox, e.g. `msg-0001`. */
  id: string;
  /** When it was accepted, as an ISO 8601 timestamp. */
  sentAt: string;
}

/** Where the lessons' `send_email` tool puts mail: kept in memory, never delivered. */
export interface Outbox {
  send(mail: OutgoingMail): SentMail;
  /** Everything sent so far, oldest first (a copy: changing it changes nothing here). */
  list(): SentMail[];
  clear(): void;
}

/** Options of `createOutbox`. */
export interface OutboxOptions {
  /** Called after each message is stored, e.g. to print it so the learner sees it land. */
  onSend?: (mail: SentMail) => void;
}

/** Creates an empty in-memory outbox. */
export function createOutbox(options: OutboxOptions = {}): Outbox {
  const messages: SentMail[] = [];
  // Never reset, not even by clear(): an ID must not point at two different messages.
  let counter = 0;

  return {
    send(mail) {
      counter += 1;
      const sent: SentMail = {
        id: `msg-${String(counter).padStart(4, '0')}`,
        sentAt: new Date().toISOString(),
        ...(mail.from === undefined ? {} : { from: mail.from }),
        to: mail.to,
        subject: mail.subject,
        body: mail.body,
      };
      messages.push(sent);
      options.onSend?.({ ...sent });
      return { ...sent };
    },
    list() {
      return messages.map((mail) => ({ ...mail }));
    },
    clear() {
      messages.length = 0;
    },
  };
}
