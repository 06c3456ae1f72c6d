import { Bouncer } from '@adonisjs/bouncer'
import type User from '#accounts/models/user'
import type { PermissionName } from '#accounts/permissions'

/**
 * `permission` is the one generic ability: does the user's role grant this named permission?
 * Module policies build on it; nothing checks a role name.
 */
export const permission = Bouncer.ability(async (user: User, name: PermissionName) => {
  return user.hasPermission(name)
})
