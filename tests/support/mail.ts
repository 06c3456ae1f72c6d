import { readdir, readFile, rm } from 'node:fs/promises'
import app from '@adonisjs/core/services/app'

/** Mails written by the development FileTransport (tmp/mail), newest last. */
export async function sentMails(): Promise<Array<{ to: string; subject: string; html: string }>> {
  const folder = app.tmpPath('mail')
  const files = (await readdir(folder).catch(() => [])).filter((f) => f.endsWith('.json')).sort()
  return Promise.all(
    files.map(async (file) => {
      const message = JSON.parse(await readFile(`${folder}/${file}`, 'utf8'))
      const to = Array.isArray(message.to)
        ? message.to.map((a: any) => a.address ?? a).join(',')
        : String(message.to?.address ?? message.to)
      return { to, subject: message.subject, html: message.html }
    })
  )
}

export async function lastMailTo(address: string) {
  const mails = (await sentMails()).filter((mail) => mail.to.includes(address))
  return mails.at(-1) ?? null
}

export async function clearMails() {
  await rm(app.tmpPath('mail'), { recursive: true, force: true })
}
