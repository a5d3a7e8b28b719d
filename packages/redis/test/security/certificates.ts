import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** PEM files for a TLS test: a CA, a server certificate for 127.0.0.1, a client certificate, and an unrelated CA. */
export interface TestCertificates {
  readonly dir: string
  readonly caCertFile: string
  readonly serverCertFile: string
  readonly serverKeyFile: string
  readonly clientCertFile: string
  readonly clientKeyFile: string
  /** A CA that signed nothing here: trusting only it must fail. */
  readonly otherCaCertFile: string
  read(file: string): Buffer
  /** Removes the folder. */
  remove(): void
}

/**
 * Generates fresh certificates with the `openssl` CLI in a temporary folder (EC P-256 keys: fast
 * to make). The server certificate names 127.0.0.1 as an IP subject alternative name, which is
 * what Node checks when connecting to an IP address.
 */
export function generateCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'tiercache-tls-'))
  const file = (name: string) => join(dir, name)
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
  const key = (name: string) => openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', file(name))
  const selfSignedCa = (name: string, cn: string) => {
    key(`${name}.key`)
    openssl('req', '-x509', '-new', '-key', file(`${name}.key`), '-out', file(`${name}.crt`), '-days', '2', '-subj', `/CN=${cn}`)
  }
  const signed = (name: string, cn: string, extensions: string) => {
    key(`${name}.key`)
    openssl('req', '-new', '-key', file(`${name}.key`), '-out', file(`${name}.csr`), '-subj', `/CN=${cn}`)
    writeFileSync(file(`${name}.ext`), extensions)
    openssl(
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file('ca.crt'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-out',
      file(`${name}.crt`),
      '-days',
      '2',
      '-extfile',
      file(`${name}.ext`),
    )
  }
  selfSignedCa('ca', 'tiercache test CA')
  selfSignedCa('other-ca', 'some other CA')
  signed('server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n')
  signed('client', 'tiercache client', 'extendedKeyUsage=clientAuth\n')
  return {
    dir,
    caCertFile: file('ca.crt'),
    serverCertFile: file('server.crt'),
    serverKeyFile: file('server.key'),
    clientCertFile: file('client.crt'),
    clientKeyFile: file('client.key'),
    otherCaCertFile: file('other-ca.crt'),
    read: (path) => readFileSync(path),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}
