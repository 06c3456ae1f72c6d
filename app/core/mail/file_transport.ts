import { mkdir, writeFile } from 'node:fs/promises'
import { randomUUID } from 'node:crypto'
import app from '@adonisjs/core/services/app'
import { MailResponse } from '@adonisjs/mail'
import { JSONTransport } from '@adonisjs/mail/transports/json'
import type { MailTransportContract, NodeMailerMessage } from '@adonisjs/mail/types'

/**
 * Development mail transport: every message is written as JSON to tmp/mail/, where a developer
 * (or a test that exercises the real mail path) can read invitation and reset links.
 */
export default class FileTransport implements MailTransportContract {
  #json = new JSONTransport()

  async send(message: NodeMailerMessage): Promise<MailResponse<unknown>> {
    const response = await this.#json.send(message)
    const folder = app.tmpPath('mail')
    await mkdir(folder, { recursive: true })
    const file = `${Date.now()}-${randomUUID()}.json`
    await writeFile(`${folder}/${file}`, response.original.message)
    return new MailResponse(response.messageId, response.envelope, { file })
  }
}
