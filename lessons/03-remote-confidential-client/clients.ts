/**
 * Dynamic client registration (RFC 7591): Entra ID has none, so MCP clients register here, at
 * POST /register. The SDK's handler validates the metadata and generates the client_id (and a
 * secret for confidential clients); this store adds the redirect-URI policy and keeps the clients.
 */
import type { OAuthRegisteredClientsStore } from '@modelcontextprotocol/sdk/server/auth/clients.js';
import { InvalidClientMetadataError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { OAuthClientInformationFull } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { SessionStore } from './sessions.ts';

/** How long a registration is kept: clients register again after that. */
const REGISTRATION_SECONDS = 30 * 24 * 3600;

/** Dynamically registered MCP clients, kept in a `SessionStore`. */
export class RegisteredClients implements OAuthRegisteredClientsStore {
  constructor(private readonly store: SessionStore<OAuthClientInformationFull>) {}

  getClient(clientId: string) {
    return this.store.get(clientId);
  }

  async registerClient(metadata: Omit<OAuthClientInformationFull, 'client_id' | 'client_id_issued_at'>): Promise<OAuthClientInformationFull> {
    // The SDK has already generated client_id (and a secret for confidential clients).
    const client = metadata as OAuthClientInformationFull;
    for (const uri of client.redirect_uris) {
      const url = new URL(uri);
      const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
      // Anyone can register, and a code travels to these URIs: loopback or https only, never script or data URLs.
      // https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#communication-security
      if (url.protocol === 'javascript:' || url.protocol === 'data:' || (url.protocol === 'http:' && !loopback)) {
        throw new InvalidClientMetadataError(`redirect_uri ${uri} is not allowed: use https, or http on localhost.`);
      }
    }
    await this.store.set(client.client_id, client, REGISTRATION_SECONDS);
    return client;
  }
}
