// Certificates the registry tests make with openssl: a CA, a server certificate for
// 127.0.0.1/localhost signed by it (TLS), and a self-signed key pair for signing tokens.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });

export interface TestCa {
  caCert: string;
  serverCert: string;
  serverKey: string;
}

/** A CA and a server certificate for 127.0.0.1 and localhost, in `dir`. */
export function makeCa(dir: string): TestCa {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=strata test CA', '-keyout', 'ca.key', '-out', 'ca.crt'], dir);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr'], dir);
  const ext = path.join(dir, 'san.ext');
  execFileSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nbasicConstraints=CA:FALSE\\n' > "${ext}"`]);
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', 'server.crt'], dir);
  return { caCert: path.join(dir, 'ca.crt'), serverCert: path.join(dir, 'server.crt'), serverKey: path.join(dir, 'server.key') };
}

/** A self-signed RSA key pair whose certificate the registry trusts for tokens (auth.token.rootcertbundle). */
export function makeSigningKey(dir: string): { cert: string; key: string } {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=strata token issuer', '-keyout', 'token.key', '-out', 'token.crt'], dir);
  return { cert: path.join(dir, 'token.crt'), key: path.join(dir, 'token.key') };
}
