/**
 * The Graph SDK client as dirbridge uses it: the token from Entra, no SDK retries (the agent retries
 * per request, so it can report each retry and honour its own limits), a timeout per request, and
 * errors turned into HttpError with the status, Graph's error code and Retry-After.
 */
import { AuthenticationHandler, Client, GraphError, HTTPMessageHandler } from '@microsoft/microsoft-graph-client';
import type { EntraTokens } from '../entra/auth.js';
import { HttpError } from '../entra/retry.js';

export class GraphClient {
  private readonly client: Client;
  private signInFailure: Error | undefined;
  readonly origin: string;

  constructor(
    graphUrl: string,
    tokens: EntraTokens,
    private readonly timeoutMs: number,
  ) {
    this.origin = new URL(graphUrl).origin;
    // A failed sign-in reaches the caller as itself (a configuration problem), not as a request the SDK could not send.
    const auth = new AuthenticationHandler({
      getAccessToken: () =>
        tokens.token().catch((e: unknown) => {
          this.signInFailure = e as Error;
          throw e;
        }),
    });
    auth.setNext(new HTTPMessageHandler());
    // customHosts: the SDK sends the token only to Graph hosts it knows, or to these (national clouds, a test server).
    this.client = Client.initWithMiddleware({
      middleware: auth,
      baseUrl: this.origin,
      defaultVersion: 'v1.0',
      customHosts: new Set([new URL(graphUrl).hostname]),
    });
  }

  /** GET an absolute URL on the Graph origin (a nextLink or deltaLink must not lead anywhere else). */
  async get<T>(url: string): Promise<T> {
    if (new URL(url).origin !== this.origin)
      throw new HttpError({ status: 400, code: 'foreignLink', message: `refusing to follow ${new URL(url).origin}: it is not ${this.origin}` });
    try {
      return (await this.client.api(url).option('signal', AbortSignal.timeout(this.timeoutMs)).get()) as T;
    } catch (e) {
      const failure = this.signInFailure;
      this.signInFailure = undefined;
      throw failure ?? toHttpError(e);
    }
  }
}

function toHttpError(e: unknown): Error {
  if (e instanceof GraphError) {
    // The SDK reports a request that got no answer (reset, refused, timeout) with status -1.
    const status = e.statusCode > 0 ? e.statusCode : 0;
    return new HttpError({
      status,
      ...(e.code ? { code: e.code } : {}),
      message: e.message || 'no message',
      retryAfter: e.headers?.get('Retry-After') ?? null,
    });
  }
  const err = e as Error;
  if (err.name === 'TimeoutError' || err.name === 'AbortError' || err instanceof TypeError) return new HttpError({ status: 0, message: err.message });
  return err;
}
