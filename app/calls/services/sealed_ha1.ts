import { randomInt } from 'node:crypto'
import encryption from '@adonisjs/core/services/encryption'
import { DigestAlgorithm, computeHa1, type SipCredential } from '#sip'

/**
 * The HA1 values of a SIP credential (a customer's phone or a web phone login), sealed with the
 * app key for one purpose: only the digest server opens them. The password itself is never kept.
 */
const HA1_PURPOSE = 'sip-ha1'
const NAME_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789'

export interface SealedHa1 {
  ha1Md5: string
  ha1Sha256: string
}

export function sealHa1(username: string, realm: string, password: string): SealedHa1 {
  const seal = (algorithm: DigestAlgorithm) =>
    encryption.encrypt(computeHa1(algorithm, username, realm, password), undefined, HA1_PURPOSE)
  return { ha1Md5: seal(DigestAlgorithm.Md5), ha1Sha256: seal(DigestAlgorithm.Sha256) }
}

/** The opened values; one that does not open (sealed under a rotated-out key) is left out. */
export function openHa1(sealed: SealedHa1): SipCredential['ha1'] {
  const md5 = encryption.decrypt<string>(sealed.ha1Md5, HA1_PURPOSE)
  const sha256 = encryption.decrypt<string>(sealed.ha1Sha256, HA1_PURPOSE)
  return {
    ...(md5 ? { [DigestAlgorithm.Md5]: md5 } : {}),
    ...(sha256 ? { [DigestAlgorithm.Sha256]: sha256 } : {}),
  }
}

/** A random SIP user name: the prefix tells devices ("fc") from web phone logins ("wp") apart. */
export function randomSipUsername(prefix: string, length: number): string {
  return (
    prefix + Array.from({ length }, () => NAME_ALPHABET[randomInt(NAME_ALPHABET.length)]).join('')
  )
}
