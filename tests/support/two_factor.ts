import { DateTime } from 'luxon'
import { generateSecret } from 'otplib'
import app from '@adonisjs/core/services/app'
import TwoFactorService from '#accounts/services/two_factor_service'
import type User from '#accounts/models/user'

/** Turns on TOTP for a user directly (the set-up flow itself is tested through HTTP); returns the secret. */
export async function enableTwoFactor(user: User) {
  const service = await app.container.make(TwoFactorService)
  const secret = generateSecret()
  user.totpSecret = service.sealSecret(secret)
  user.totpEnabledAt = DateTime.utc()
  await user.save()
  return secret
}
