/** Lesson 1's mutants: the mistakes that break a rule the lesson's text teaches (see mutant.ts). */
import { mutants } from './mutant.ts';

export default mutants([
  {
    id: 'unknown-customer-empty-answer',
    file: 'server.ts',
    find: `        return errorResult(
          \`No customer has the ID "\${customerId}". IDs look like C-1001; use search_customers to find one by name or company.\`,
        );`,
    replace: `        return textResult('null');`,
    rule: 'an unknown customer is an isError result that names the ID',
    section: 'TODO 1.1',
  },
  {
    id: 'unknown-customer-throws',
    file: 'server.ts',
    find: `        return errorResult(
          \`No customer has the ID "\${customerId}". IDs look like C-1001; use search_customers to find one by name or company.\`,
        );`,
    replace: `        throw new Error(\`Customer lookup failed: Cannot read properties of undefined (reading 'id')\`);`,
    rule: 'an unknown customer gets a tool error the model can act on, not a thrown failure',
    section: 'TODO 1.1',
  },
  {
    id: 'unknown-customer-no-guidance',
    file: 'server.ts',
    find: `IDs look like C-1001; use search_customers to find one by name or company.`,
    replace: `Check the ID.`,
    rule: 'the error says how to find a valid ID',
    section: 'TODO 1.1',
  },
  {
    id: 'no-match-is-error',
    file: 'server.ts',
    find: 'if (matches.length === 0) return textResult(',
    replace: 'if (matches.length === 0) return errorResult(',
    rule: 'no match is a normal answer, not an error',
    section: 'TODO 1.2',
  },
  {
    id: 'any-recipient',
    file: 'server.ts',
    find: `to: z.email().describe('One recipient address'),`,
    replace: `to: z.string().describe('One recipient address'),`,
    rule: 'the schema validates the recipient as an e-mail address',
    section: 'TODO 1.3',
  },
  {
    id: 'empty-subject',
    file: 'server.ts',
    find: `subject: z.string().trim().min(1, 'The subject must not be empty').max(200),`,
    replace: `subject: z.string().max(200),`,
    rule: 'the schema refuses an empty subject',
    section: 'TODO 1.3',
  },
  {
    id: 'stateful-shared-transport',
    file: 'server.ts',
    find: `      sessionIdGenerator: undefined,`,
    replace: `      sessionIdGenerator: () => crypto.randomUUID(),`,
    rule: 'stateless: no session ID',
    section: 'TODO 1.4',
  },
  {
    id: 'get-not-405',
    file: 'server.ts',
    find: `  app.get('/mcp', methodNotAllowed);`,
    replace: ``,
    rule: 'GET /mcp gets 405 on a stateless server',
    section: 'TODO 1.5',
  },
  {
    id: 'delete-not-405',
    file: 'server.ts',
    find: `  app.delete('/mcp', methodNotAllowed);`,
    replace: ``,
    rule: 'DELETE /mcp gets 405 on a stateless server',
    section: 'TODO 1.5',
  },
]);
