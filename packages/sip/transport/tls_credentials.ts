import { mkdir, readFile, writeFile, stat } from 'node:fs/promises'
import { join } from 'node:path'

export interface TlsCredentialPaths {
  certPath?: string
  keyPath?: string
}

export interface TlsCredentials {
  cert: Buffer
  key: Buffer
  /** Where they came from, for the boot log. */
  source: 'configured' | 'self-signed'
}

/**
 * Reads the TLS certificate and key from their configured paths. Without paths, development and
 * tests get a self-signed pair kept in `selfSignedDirectory` (generated once); production
 * refuses to start without a real certificate.
 */
export async function loadTlsCredentials(
  paths: TlsCredentialPaths,
  options: { allowSelfSigned: boolean; selfSignedDirectory: string }
): Promise<TlsCredentials> {
  if (paths.certPath || paths.keyPath) {
    if (!paths.certPath || !paths.keyPath) {
      throw new Error('SIP TLS: configure both the certificate and the key path, or neither')
    }
    const [cert, key] = await Promise.all([readFile(paths.certPath), readFile(paths.keyPath)])
    return { cert, key, source: 'configured' }
  }
  if (!options.allowSelfSigned) {
    throw new Error(
      'SIP TLS is enabled without a certificate: set SIP_TLS_CERT_PATH and SIP_TLS_KEY_PATH'
    )
  }
  return selfSigned(options.selfSignedDirectory)
}

async function selfSigned(directory: string): Promise<TlsCredentials> {
  const certPath = join(directory, 'cert.pem')
  const keyPath = join(directory, 'key.pem')
  if ((await exists(certPath)) && (await exists(keyPath))) {
    const [cert, key] = await Promise.all([readFile(certPath), readFile(keyPath)])
    return { cert, key, source: 'self-signed' }
  }
  const { generate } = await import('selfsigned')
  const notAfter = new Date()
  notAfter.setFullYear(notAfter.getFullYear() + 1)
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  })
  await mkdir(directory, { recursive: true, mode: 0o700 })
  await writeFile(keyPath, pems.private, { mode: 0o600 })
  await writeFile(certPath, pems.cert)
  return { cert: Buffer.from(pems.cert), key: Buffer.from(pems.private), source: 'self-signed' }
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}
