import { BaseSeeder } from '@adonisjs/lucid/seeders'
import { installRbacDefaults } from '#accounts/services/rbac_defaults'

/** The permission catalogue and least-privilege default roles; runs in every environment. */
export default class RbacSeeder extends BaseSeeder {
  async run() {
    await installRbacDefaults()
  }
}
