// HTTP(S) requests that trust what the user's NODE_EXTRA_CA_CERTS names even when Node started
// without it. bin/strata starts Node without that variable (Node 20 parses the file at every
// start-up, some 90 ms for a system CA bundle, whether or not a TLS connection is ever made) and
// start.cjs records its value under EXTRA_CA_CERTS_DEFERRED; the file is read here, once, when
// an https request is made.
import fs from 'node:fs';

const EXTRA_CA_CERTS_DEFERRED = Symbol.for('strata.extraCaCertsDeferred');

/** The CA file Node was started without, if any. */
export function deferredExtraCaCerts(): string | undefined {
  const value = (globalThis as Record<symbol, unknown>)[EXTRA_CA_CERTS_DEFERRED];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

let agent: Promise<unknown> | undefined;

/** An undici Agent trusting Node's root certificates plus the deferred CA file. */
function extraCaAgent(file: string): Promise<unknown> {
  agent ??= (async () => {
    let extra: string;
    try {
      extra = fs.readFileSync(file, 'utf8');
    } catch (err) {
      // Node itself only warns about an unreadable NODE_EXTRA_CA_CERTS and goes on without it.
      process.stderr.write(`Warning: ignoring extra certs from \`${file}\`, load failed: ${(err as Error).message}\n`);
      return undefined;
    }
    // node:tls here, not at the top: the registry client imports this module for plain-http pulls too.
    const [{ Agent }, tls] = await Promise.all([import('undici'), import('node:tls')]);
    return new Agent({ connect: { ca: [...tls.rootCertificates, extra] } });
  })();
  return agent;
}

/**
 * fetch(), with the deferred extra CA certificates trusted for https URLs. A request that gets
 * no response throws an Error saying why (fetch's own says only "fetch failed").
 */
export async function httpFetch(url: string, init: RequestInit = {}): Promise<Response> {
  try {
    const file = deferredExtraCaCerts();
    const dispatcher = file && /^https:/i.test(url) ? await extraCaAgent(file) : undefined;
    if (!dispatcher) return await fetch(url, init);
    const { fetch: undiciFetch } = await import('undici');
    // undici's own fetch, so that its Agent is the dispatcher it expects; the Response is the same API.
    return (await undiciFetch(url, { ...(init as object), dispatcher } as Parameters<typeof undiciFetch>[1])) as unknown as Response;
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    throw new Error(`failed to fetch "${url}": ${cause ?? (err as Error).message}`);
  }
}
