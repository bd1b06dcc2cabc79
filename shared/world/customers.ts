/**
 * The workshop's customer database: a handful of fictitious customers of Contoso.
 *
 * Every name, address and number here is invented (the companies are Microsoft's usual sample names,
 * the domains end in `.example`, the phone numbers sit in the 555-01xx fiction range). The notes are
 * meant to *look* sensitive, so that reading them without permission feels wrong: that is the point
 * the lessons make.
 */

/** A customer's contract level. */
export type CustomerTier = 'standard' | 'gold' | 'platinum';

/** One customer record, as the lessons' tools return it. */
export interface Customer {
  /** Stable ID such as `C-1001`. */
  id: string;
  name: string;
  company: string;
  email: string;
  phone: string;
  tier: CustomerTier;
  /** Credit limit in US dollars. */
  creditLimitUsd: number;
  /** Internal account notes: never meant for anyone outside the account team. */
  notes: string;
}

/** The database: read-only, the same in every run. */
export const CUSTOMERS: readonly Customer[] = [
  {
    id: 'C-1001',
    name: 'Mara Okafor',
    company: 'Fabrikam Inc.',
    email: 'mara.okafor@fabrikam.example',
    phone: '+1 206 555 0101',
    tier: 'platinum',
    creditLimitUsd: 250_000,
    notes: 'Renewal talks in Q3; willing to sign a 3-year deal at 18% discount. Do not disclose to procurement.',
  },
  {
    id: 'C-1002',
    name: 'Tomasz Wierzbicki',
    company: 'Tailspin Toys',
    email: 'tomasz@tailspintoys.example',
    phone: '+1 425 555 0102',
    tier: 'gold',
    creditLimitUsd: 80_000,
    notes: 'Two late payments this year; finance asked to hold new orders above $20k.',
  },
  {
    id: 'C-1003',
    name: 'Priya Raman',
    company: 'Woodgrove Bank',
    email: 'priya.raman@woodgrovebank.example',
    phone: '+1 312 555 0103',
    tier: 'platinum',
    creditLimitUsd: 500_000,
    notes: 'Security review pending; their CISO prefers calls, never e-mail, for incident topics.',
  },
  {
    id: 'C-1004',
    name: 'Jonas Lindqvist',
    company: 'Adventure Works Cycles',
    email: 'jonas.lindqvist@adventure-works.example',
    phone: '+1 503 555 0104',
    tier: 'standard',
    creditLimitUsd: 15_000,
    notes: 'Evaluating a competitor. Retention offer approved up to 10%.',
  },
  {
    id: 'C-1005',
    name: 'Lucía Fernández',
    company: 'Litware Inc.',
    email: 'lucia.fernandez@litware.example',
    phone: '+1 617 555 0105',
    tier: 'gold',
    creditLimitUsd: 120_000,
    notes: 'Private mobile for escalations: +1 617 555 0155. Board approval needed above $100k.',
  },
  {
    id: 'C-1006',
    name: 'Kwame Mensah',
    company: 'Wide World Importers',
    email: 'kwame.mensah@wideworldimporters.example',
    phone: '+1 718 555 0106',
    tier: 'standard',
    creditLimitUsd: 25_000,
    notes: 'Disputed invoice INV-88213 ($4,310); legal is involved.',
  },
  {
    id: 'C-1007',
    name: 'Hana Sato',
    company: 'Proseware, Inc.',
    email: 'hana.sato@proseware.example',
    phone: '+1 415 555 0107',
    tier: 'gold',
    creditLimitUsd: 90_000,
    notes: 'Reference customer for the case study; contract price is confidential.',
  },
];

/** The customer with this ID (case-insensitive, surrounding spaces ignored), or undefined. */
export function findCustomer(id: string): Customer | undefined {
  const wanted = id.trim().toUpperCase();
  return CUSTOMERS.find((customer) => customer.id === wanted);
}

/**
 * Customers whose name or company contains the query, ignoring case. An empty query matches
 * nobody: a search is not a way to dump the whole table.
 */
export function searchCustomers(query: string): Customer[] {
  const needle = query.trim().toLowerCase();
  if (!needle) return [];
  return CUSTOMERS.filter(
    (customer) => customer.name.toLowerCase().includes(needle) || customer.company.toLowerCase().includes(needle),
  );
}
