// Registry errors as one line in the user's terms: the distribution spec's error codes
// (MANIFEST_UNKNOWN, NAME_UNKNOWN, UNAUTHORIZED, DENIED ...) with their message, and network
// failures named by what failed (connection refused, certificate not trusted).
import { StrataError } from '../errors.js';
import { parseChallenges, type Challenge } from './challenge.js';

export class RegistryError extends StrataError {
  constructor(
    message: string,
    readonly status?: number,
    /** The first error code of the registry's answer, e.g. "MANIFEST_UNKNOWN". */
    readonly code?: string,
  ) {
    super(message);
  }

  /** The thing asked for does not exist there (so another mirror, or the origin, may have it). */
  get notFound(): boolean {
    return this.status === 404 || ['MANIFEST_UNKNOWN', 'NAME_UNKNOWN', 'BLOB_UNKNOWN'].includes(this.code ?? '');
  }
}

interface Answer {
  status: number;
  headers?: Record<string, string | string[] | undefined>;
  body: { text(): Promise<string>; dump(): Promise<void> };
}

const STATUS_TEXT: Record<number, string> = {
  400: 'bad request', 401: 'unauthorized: authentication required', 403: 'denied: requested access to the resource is denied',
  404: 'not found', 405: 'unsupported', 413: 'request entity too large', 416: 'requested range not satisfiable', 429: 'too many requests',
};

/** A 401's bearer challenge with error="insufficient_scope" (RFC 6750): a token without the access asked for. */
export function insufficientScope(headers: Answer['headers']): Challenge | undefined {
  return parseChallenges(headers?.['www-authenticate']).find((c) => c.scheme === 'bearer' && c.params.error === 'insufficient_scope');
}

/** The registry's own words for a failed request ("manifest unknown: manifest unknown"), else the status. */
export async function errorFromResponse(res: Answer, method: string, url: string): Promise<RegistryError> {
  let text = '';
  if (method !== 'HEAD') text = await res.body.text().catch(() => '');
  else await res.body.dump().catch(() => undefined);
  let code: string | undefined;
  let message: string | undefined;
  try {
    const j = JSON.parse(text) as { errors?: { code?: string; message?: string }[]; details?: string };
    const e = j.errors?.[0];
    if (e) {
      code = e.code;
      message = `${(e.code ?? '').toLowerCase().replace(/_/g, ' ')}${e.message ? `: ${e.message}` : ''}`;
    } else if (j.details) message = j.details;
  } catch {
    // not JSON
  }
  if (!message && res.status === 404) message = method === 'HEAD' && /\/manifests\//.test(url) ? 'manifest unknown' : 'not found';
  message ??= STATUS_TEXT[res.status] ?? `unexpected status ${res.status}`;
  if (!code && res.status === 401) code = 'UNAUTHORIZED';
  // A token without the access asked for (RFC 6750's insufficient_scope): DENIED, as Docker's
  // client reads it (the repository does not exist, or this user may not use it).
  const denied = res.status === 401 ? insufficientScope(res.headers) : undefined;
  if (denied) {
    code = 'DENIED';
    message = `denied: ${denied.params.error_description || 'requested access to the resource is denied'}`;
  }
  // Collapse the spec's doubled forms ("manifest unknown: manifest unknown").
  message = message.replace(/^([^:]+): \1$/i, '$1').replace(/\s+/g, ' ').trim();
  return new RegistryError(message, res.status, code);
}

/** A request that got no answer, named in the user's terms. */
export function networkError(url: string, err: unknown, kind?: 'certificate'): StrataError {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code ?? '';
  const origin = (() => {
    try {
      return new URL(url).host;
    } catch {
      return url;
    }
  })();
  if (kind === 'certificate') {
    return new RegistryError(`registry "${origin}": TLS certificate not trusted (${code || e.message}): add its CA under certs.d/${origin}/ca.crt, or use --tls-verify=false`);
  }
  const why = code === 'ECONNREFUSED' ? 'connection refused'
    : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'no such host'
      : code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' ? 'connection timed out'
        : code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' ? 'connection closed by the registry'
          : (e.cause?.message ?? e.message ?? String(err));
  return new RegistryError(`registry "${origin}" is not reachable: ${why}`);
}
