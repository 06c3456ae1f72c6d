import { BaseModel, column } from '@adonisjs/lucid/orm'
import type { PermissionScope } from '#accounts/permissions'

export default class Permission extends BaseModel {
  @column({ isPrimary: true })
  declare id: number

  @column()
  declare name: string

  @column()
  declare scope: PermissionScope
}
