// What a registry connection trusts: the system's CA bundle and Node's roots, the CA file that
// NODE_EXTRA_CA_CERTS names (deferred by bin/strata, see src/net/fetch.ts), and the registry's
// own directory in a certs.d (HOST[:PORT]/*.crt as CAs, *.cert + *.key as a client
// certificate), as Docker and podman read /etc/docker/certs.d and /etc/containers/certs.d.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type tls from 'node:tls';
import { deferredExtraCaCerts } from '../net/index.js';

export interface TlsOptions {
  /** Undefined: Node's own roots (Mozilla's list), which cost nothing to load. */
  ca?: string[];
  cert?: string;
  key?: string;
  rejectUnauthorized: boolean;
}

const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt'];
let baseCas: string[] | undefined;

function readIf(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Node's roots, the system bundle and the deferred NODE_EXTRA_CA_CERTS file (read once). */
function baseCertificates(): string[] {
  if (baseCas) return baseCas;
  // tls is loaded here, for an https registry only (a plain-http pull never needs it).
  const out = [...(createRequire('/')('node:tls') as typeof tls).rootCertificates];
  for (const f of SYSTEM_BUNDLES) {
    const text = readIf(f);
    if (text) {
      out.push(text);
      break;
    }
  }
  const extra = deferredExtraCaCerts() ?? process.env.NODE_EXTRA_CA_CERTS;
  if (extra) {
    const text = readIf(extra);
    if (text) out.push(text);
    else process.stderr.write(`Warning: ignoring extra certs from \`${extra}\`, load failed\n`);
  }
  baseCas = out;
  return out;
}

/** The directory names a registry host may have in a certs.d ("host:port", and "host" alone). */
function hostDirs(host: string): string[] {
  const bare = host.replace(/:\d+$/, '');
  return bare === host ? [host] : [host, bare];
}

/**
 * TLS settings for connections to `host`. Building a context from a few hundred CA
 * certificates costs some 60 ms, so Node's own roots are used alone unless the registry has a
 * certs.d directory, NODE_EXTRA_CA_CERTS is set, or `full` asks for the system bundle too (a
 * certificate Node's roots did not verify is tried again that way).
 */
export function tlsOptionsFor(host: string, certsDirs: string[], verify: boolean, full = false): TlsOptions {
  const extra = deferredExtraCaCerts() ?? process.env.NODE_EXTRA_CA_CERTS;
  const own: string[] = [];
  let cert: string | undefined;
  let key: string | undefined;
  for (const base of certsDirs) {
    for (const name of hostDirs(host)) {
      const dir = path.join(base, name);
      let files: string[];
      try {
        files = fs.readdirSync(dir).sort();
      } catch {
        continue;
      }
      for (const f of files) {
        if (f.endsWith('.crt')) {
          const text = readIf(path.join(dir, f));
          if (text) own.push(text);
        } else if (f.endsWith('.cert') && !cert) {
          const k = readIf(path.join(dir, f.replace(/\.cert$/, '.key')));
          const c = readIf(path.join(dir, f));
          if (c && k) {
            cert = c;
            key = k;
          }
        }
      }
    }
  }
  const ca = full || extra || own.length ? [...baseCertificates(), ...own] : undefined;
  return { ca, cert, key, rejectUnauthorized: verify };
}

/** A TLS handshake that met a plain-http server (the fallback to http is worth trying). */
export function isNotTls(err: unknown): boolean {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const text = `${e.code ?? ''} ${e.message ?? ''} ${e.cause?.code ?? ''} ${e.cause?.message ?? ''}`;
  return /WRONG_VERSION_NUMBER|EPROTO|packet length too long|unknown protocol|ECONNRESET|UND_ERR_SOCKET/i.test(text);
}

/** A certificate that did not verify. */
export function isCertificateError(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code ?? '';
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|UNABLE_TO_GET_ISSUER/.test(code);
}
