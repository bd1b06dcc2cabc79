/**
 * shared/graph.ts's describeGraphError for a user without an Exchange Online mailbox: Graph answers
 * 404 MailboxNotEnabledForRESTAPI to sendMail, and the tool error must say what to do about it.
 * https://learn.microsoft.com/exchange/troubleshoot/user-and-shared-mailboxes/rest-api-is-not-yet-supported-for-this-mailbox-error
 */
import { GraphError } from '@microsoft/microsoft-graph-client';
import { describe, expect, it } from 'vitest';
import { describeGraphError } from '../../shared/graph.ts';

function graphError(status: number, code: string, message: string): GraphError {
  const error = new GraphError(status, message);
  error.code = code;
  return error;
}

describe('describeGraphError', () => {
  it('404 MailboxNotEnabledForRESTAPI: names the code and the fix (a user with an Exchange Online mailbox)', () => {
    const text = describeGraphError(
      graphError(404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.'),
      'Mail.Send',
    );
    expect(text, 'quotes Graph\'s status and code').toContain('404 MailboxNotEnabledForRESTAPI');
    expect(text, 'says what is missing').toContain('Exchange Online mailbox');
  });

  it('any other 404 stays a plain refusal, without mailbox advice', () => {
    const text = describeGraphError(graphError(404, 'Request_ResourceNotFound', 'Resource does not exist.'), 'User.Read');
    expect(text).toContain('404 Request_ResourceNotFound');
    expect(text).not.toContain('mailbox');
  });
});
