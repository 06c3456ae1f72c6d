import { randomBytes } from 'node:crypto'
import { DateTime } from 'luxon'
import { generateSecret, generateURI, verify } from 'otplib'
import QRCode from 'qrcode'
import encryption from '@adonisjs/core/services/encryption'
import hash from '@adonisjs/core/services/hash'
import type User from '#accounts/models/user'
import AuditLog from '#accounts/services/audit_log'

const RECOVERY_CODE_COUNT = 10

/**
 * TOTP (RFC 6238) second factor with single-use recovery codes. The secret is stored encrypted
 * with the app key; recovery codes only as hashes.
 */
export default class TwoFactorService {
  /** A fresh secret for the set-up page; not stored until the user proves it with a code. */
  newSecret(user: User) {
    const secret = generateSecret()
    return { secret, uri: this.uriFor(user, secret) }
  }

  /** The otpauth:// URI an authenticator app imports. */
  uriFor(user: User, secret: string) {
    return generateURI({ issuer: 'FluffyCall', label: user.email, secret })
  }

  /** The URI as a QR code (SVG data URL) to scan; rendered here, so the secret never leaves our server. */
  async qrCodeFor(uri: string) {
    const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 })
    return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`
  }

  sealSecret(secret: string) {
    return encryption.encrypt(secret, undefined, 'totp')
  }

  openSecret(sealed: string) {
    return encryption.decrypt<string>(sealed, 'totp')
  }

  async codeMatches(secret: string, code: string, afterTimeStep?: number | null) {
    const token = code.replace(/\s/g, '')
    if (!/^\d{6}$/.test(token)) return { valid: false as const }
    const result = await verify({
      secret,
      token,
      epochTolerance: 30,
      ...(afterTimeStep ? { afterTimeStep } : {}),
    })
    if (!result.valid || !('timeStep' in result)) return { valid: false as const }
    return { valid: true as const, timeStep: result.timeStep as number }
  }

  /** Turns 2FA on once the user typed a valid code for the new secret; returns the recovery codes. */
  async enable(user: User, secret: string, code: string, ip: string) {
    const check = await this.codeMatches(secret, code)
    if (!check.valid) return null
    const recoveryCodes = Array.from({ length: RECOVERY_CODE_COUNT }, () =>
      randomBytes(5)
        .toString('hex')
        .replace(/(.{5})/, '$1-')
    )
    user.totpSecret = this.sealSecret(secret)
    user.totpEnabledAt = DateTime.utc()
    user.totpLastStep = check.timeStep
    user.recoveryCodes = JSON.stringify(await Promise.all(recoveryCodes.map((c) => hash.make(c))))
    await user.save()
    await AuditLog.record({
      action: 'auth.2fa.enabled',
      actor: user,
      target: { type: 'user', id: user.id },
      ip,
    })
    return recoveryCodes
  }

  async disable(user: User, ip: string) {
    user.totpSecret = null
    user.totpEnabledAt = null
    user.totpLastStep = null
    user.recoveryCodes = null
    await user.save()
    await AuditLog.record({
      action: 'auth.2fa.disabled',
      actor: user,
      target: { type: 'user', id: user.id },
      ip,
    })
  }

  /** Checks a login code: a current TOTP (each used once) or an unused recovery code (then spent). */
  async verifyLogin(user: User, code: string, ip: string) {
    if (!user.totpSecret) return false
    const check = await this.codeMatches(this.openSecret(user.totpSecret)!, code, user.totpLastStep)
    if (check.valid) {
      user.totpLastStep = check.timeStep
      await user.save()
      return true
    }
    const normalized = code.trim().toLowerCase()
    const hashes: string[] = user.recoveryCodes ? JSON.parse(user.recoveryCodes) : []
    for (const [index, stored] of hashes.entries()) {
      if (await hash.verify(stored, normalized)) {
        hashes.splice(index, 1)
        user.recoveryCodes = JSON.stringify(hashes)
        await user.save()
        await AuditLog.record({
          action: 'auth.2fa.recovery_code_used',
          actor: user,
          target: { type: 'user', id: user.id },
          details: { remaining: hashes.length },
          ip,
        })
        return true
      }
    }
    await AuditLog.record({
      action: 'auth.2fa.failed',
      actor: user,
      target: { type: 'user', id: user.id },
      ip,
    })
    return false
  }
}
