// A throwaway certificate authority for tests, made with the `openssl`
// command: servers under test get real certificates from it and clients
// trust it explicitly, so TLS verification stays on everywhere.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';

export interface IssuedCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: Buffer;
  readonly key: Buffer;
}

export interface TestCertificateAuthority {
  /** PEM file of the CA certificate, to trust. */
  readonly caFile: string;
  readonly caPem: string;
  /** A server certificate naming every host (DNS names and IP addresses). */
  issue(name: string, hosts: readonly string[]): IssuedCertificate;
}

function openssl(args: readonly string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
}

/** Creates a CA (EC P-256, valid two days) in `dir`. */
export function createTestCertificateAuthority(dir: string): TestCertificateAuthority {
  mkdirSync(dir, { recursive: true });
  const caFile = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  openssl([
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=membrane test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout', caKey, '-out', caFile,
  ]);
  let serial = 1;
  return {
    caFile,
    caPem: readFileSync(caFile, 'utf8'),
    issue(name, hosts) {
      const base = join(dir, name.replace(/[^A-Za-z0-9_.-]/g, '_'));
      const files = { certFile: `${base}.crt`, keyFile: `${base}.key` };
      const extensions = `${base}.ext`;
      const san = hosts.map((host) => (isIP(host) === 0 ? `DNS:${host}` : `IP:${host}`)).join(',');
      writeFileSync(extensions, `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=${san}\n`);
      openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${hosts[0] ?? name}`, '-keyout', files.keyFile, '-out', `${base}.csr`]);
      openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', caFile, '-CAkey', caKey, '-set_serial', String(serial++), '-days', '2', '-extfile', extensions, '-out', files.certFile]);
      return { ...files, cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) };
    },
  };
}
