/**
 * Throw-away certificates for the tests, made by the machine's openssl: a CA, and certificates it signs
 * for 127.0.0.1 (a server) or a named client.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Issued {
  cert: string;
  key: string;
}

const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });

/** A CA in a folder of its own; `issue` signs a certificate for `name` (a server for 127.0.0.1 when 'server'). */
export function testCa(label = 'test-ca') {
  const folder = mkdtempSync(join(tmpdir(), `${label}-`));
  const ca: Issued = { cert: join(folder, 'ca.pem'), key: join(folder, 'ca.key') };
  openssl(
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2'],
    ...['-subj', `/CN=${label}`, '-keyout', ca.key, '-out', ca.cert],
  );
  return {
    ca,
    issue(name: string): Issued {
      const issued: Issued = { cert: join(folder, `${name}.pem`), key: join(folder, `${name}.key`) };
      const request = join(folder, `${name}.csr`);
      const extensions = join(folder, `${name}.ext`);
      writeFileSync(
        extensions,
        name === 'server' ? 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' : 'extendedKeyUsage=clientAuth\n',
      );
      openssl(
        ...['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${name}`],
        ...['-keyout', issued.key, '-out', request],
      );
      openssl(
        ...[
          'x509',
          '-req',
          '-in',
          request,
          '-CA',
          ca.cert,
          '-CAkey',
          ca.key,
          '-CAcreateserial',
          '-days',
          '2',
        ],
        ...['-extfile', extensions, '-out', issued.cert],
      );
      return issued;
    },
  };
}
