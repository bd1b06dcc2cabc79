/**
 * A Microsoft Graph fake: `GET /v1.0/me` and `POST /v1.0/me/sendMail`, checking tokens the way Graph
 * does (audience, signature, lifetime, then scopes) and answering with Graph-shaped errors.
 * Tests can make it fail on purpose (429 with Retry-After, 5xx) with failNext().
 */
import { randomUUID } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { GRAPH_APP_ID, GRAPH_RESOURCE, findUser, type TestUser } from './directory.ts';
import type { EntraEmulator } from './entra.ts';
import { EventStream } from './events.ts';

/** A mail the Graph fake accepted. */
export interface GraphMail {
  id: string;
  from: string;
  to: string[];
  subject: string;
  body: string;
  sentAt: string;
}

/** What Graph saw on each call: who called, with what kind of token. */
export interface GraphCall {
  method: string;
  path: string;
  status: number;
  /** The bearer token as received (tests use it to prove which token reached Graph). */
  token?: string;
  aud?: string;
  appid?: string;
  scp?: string;
  oid?: string;
}

/** A failure to inject with {@link GraphFake.failNext}. */
export interface InjectedFailure {
  status: 429 | 500 | 502 | 503 | 504;
  retryAfterSeconds?: number;
  /** How many calls fail (default 1). */
  times?: number;
}

class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The Graph fake sent a mail (`POST /v1.0/me/sendMail`). */
export interface MailSentEvent {
  code: 'mail-sent';
  mail: GraphMail;
}

/** Microsoft Graph's `/me` and `/me/sendMail`, checking tokens the emulator issued. */
export class GraphFake {
  readonly outbox: GraphMail[] = [];
  /** Mails as they are sent, for the learner's console (see server.ts). Subscribe with `on()`. */
  readonly events = new EventStream<MailSentEvent>();
  readonly calls: GraphCall[] = [];
  private failures: Array<Required<Pick<InjectedFailure, 'status' | 'times'>> & { retryAfterSeconds?: number }> = [];

  constructor(private readonly emulator: EntraEmulator) {}

  /** The next call(s) fail with this status, before any token check, as a throttled or sick Graph would. */
  failNext(failure: InjectedFailure): void {
    this.failures.push({ status: failure.status, times: failure.times ?? 1, retryAfterSeconds: failure.retryAfterSeconds });
  }

  /** Forgets mails, calls and injected failures (between tests). */
  reset(): void {
    this.outbox.length = 0;
    this.calls.length = 0;
    this.failures = [];
  }

  /** Answers one Graph request. Never throws: every failure becomes a Graph-shaped error response. */
  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    // Served at https://graph.microsoft.com/v1.0/… and, by the emulator's HTTP server, at /graph/v1.0/….
    const path = url.pathname.replace(/^\/graph(?=\/)/, '').replace(/\/+$/, '');
    const call: GraphCall = { method: request.method, path, status: 0 };
    this.calls.push(call);
    try {
      const injected = this.failures[0];
      if (injected) {
        if (--injected.times === 0) this.failures.shift();
        throw injectedError(injected.status, injected.retryAfterSeconds);
      }
      const { token, claims } = await this.authenticate(request);
      Object.assign(call, { token, aud: claims.aud, appid: claims.appid, scp: claims.scp, oid: claims.oid });
      const response = await this.route(request, url, path, claims);
      call.status = response.status;
      return response;
    } catch (error) {
      const graphError = error instanceof GraphError ? error : new GraphError(500, 'generalException', (error as Error).message);
      call.status = graphError.status;
      return errorResponse(graphError, request);
    }
  }

  private async route(request: Request, url: URL, path: string, claims: JWTPayload): Promise<Response> {
    if (path === '/v1.0/me' && request.method === 'GET') {
      requireScope(claims, ['User.Read', 'User.ReadWrite', 'User.ReadBasic.All', 'User.Read.All']);
      return Response.json(profile(meUser(claims), url.searchParams.get('$select')));
    }
    if (path === '/v1.0/me/sendMail' && request.method === 'POST') {
      requireScope(claims, ['Mail.Send']);
      const user = meUser(claims);
      const mail = parseMail(await request.text(), user);
      this.outbox.push(mail);
      this.events.emit({ code: 'mail-sent', mail });
      return new Response(null, { status: 202 });
    }
    throw new GraphError(400, 'BadRequest', `Resource not found for the segment '${path.split('/').pop()}'. This fake serves GET /v1.0/me and POST /v1.0/me/sendMail.`);
  }

  /** Graph checks audience, signature and lifetime; a token for any other API is refused. */
  private async authenticate(request: Request): Promise<{ token: string; claims: JWTPayload }> {
    const header = request.headers.get('authorization') ?? '';
    const token = header.match(/^Bearer\s+(.+)$/i)?.[1]?.trim();
    if (!token) throw unauthorized('Access token is empty.');
    let claims: JWTPayload;
    try {
      decodeProtectedHeader(token);
      claims = decodeJwt(token);
    } catch {
      throw unauthorized('IDX14100: JWT is not well formed.');
    }
    if (claims.aud !== GRAPH_RESOURCE && claims.aud !== GRAPH_APP_ID) {
      throw unauthorized('Access token validation failure. Invalid audience.');
    }
    try {
      await jwtVerify(token, this.emulator.keys.graph.publicJwk, { currentDate: new Date(this.emulator.now()) });
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw unauthorized('Lifetime validation failed, the token is expired.');
      throw unauthorized('Access token validation failure.');
    }
    return { token, claims };
  }
}

function requireScope(claims: JWTPayload, accepted: string[]): void {
  if (typeof claims.scp !== 'string') {
    throw new GraphError(400, 'BadRequest', '/me request is only valid with delegated authentication flow.');
  }
  const granted = claims.scp.split(' ');
  if (!accepted.some((scope) => granted.includes(scope))) {
    throw new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
  }
}

function meUser(claims: JWTPayload): TestUser {
  const user = typeof claims.oid === 'string' ? findUser(claims.oid) : undefined;
  if (!user) throw new GraphError(404, 'Request_ResourceNotFound', `Resource '${String(claims.oid)}' does not exist.`);
  return user;
}

function profile(user: TestUser, select: string | null) {
  const full: Record<string, unknown> = {
    businessPhones: [],
    displayName: user.displayName,
    givenName: user.givenName,
    jobTitle: user.jobTitle,
    mail: user.userPrincipalName,
    mobilePhone: null,
    officeLocation: user.officeLocation,
    preferredLanguage: 'en-GB',
    surname: user.surname,
    userPrincipalName: user.userPrincipalName,
    id: user.oid,
  };
  const fields = select ? select.split(',').map((field) => field.trim()) : Object.keys(full);
  const picked = Object.fromEntries(fields.filter((field) => field in full).map((field) => [field, full[field]]));
  return { '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#users/$entity', ...picked };
}

function parseMail(text: string, from: TestUser): GraphMail {
  let body: { message?: { subject?: string; body?: { content?: string }; toRecipients?: Array<{ emailAddress?: { address?: string } }> } };
  try {
    body = JSON.parse(text);
  } catch {
    throw new GraphError(400, 'BadRequest', 'Unable to read JSON request payload.');
  }
  const to = (body.message?.toRecipients ?? []).map((recipient) => recipient.emailAddress?.address).filter((address): address is string => !!address);
  if (to.length === 0) throw new GraphError(400, 'ErrorInvalidRecipients', 'At least one recipient is not valid.');
  return {
    id: randomUUID(),
    from: from.userPrincipalName,
    to,
    subject: body.message?.subject ?? '',
    body: body.message?.body?.content ?? '',
    sentAt: new Date().toISOString(),
  };
}

function unauthorized(message: string): GraphError {
  return new GraphError(401, 'InvalidAuthenticationToken', message, {
    'www-authenticate': `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="${GRAPH_APP_ID}"`,
  });
}

function injectedError(status: number, retryAfterSeconds?: number): GraphError {
  const headers: Record<string, string> = retryAfterSeconds !== undefined ? { 'retry-after': String(retryAfterSeconds) } : {};
  if (status === 429) return new GraphError(429, 'TooManyRequests', 'Too many requests. Retry after the time in the Retry-After header.', headers);
  if (status === 503) return new GraphError(503, 'ServiceUnavailable', 'The service is temporarily unavailable.', headers);
  return new GraphError(status, 'generalException', 'An unexpected error occurred in Microsoft Graph.', headers);
}

function errorResponse(error: GraphError, request: Request): Response {
  const body = {
    error: {
      code: error.code,
      message: error.message,
      innerError: {
        date: new Date().toISOString().replace(/\.\d+Z$/, ''),
        'request-id': randomUUID(),
        'client-request-id': request.headers.get('client-request-id') ?? randomUUID(),
      },
    },
  };
  return Response.json(body, { status: error.status, headers: error.headers });
}
