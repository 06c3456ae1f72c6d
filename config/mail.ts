import env from '#start/env'
import { defineConfig, transports } from '@adonisjs/mail'
import FileTransport from '#core/mail/file_transport'

const mailConfig = defineConfig({
  default: env.get('MAIL_MAILER', 'file'),
  from: { address: env.get('MAIL_FROM', 'noreply@fluffycall.de'), name: 'FluffyCall' },
  mailers: {
    file: () => new FileTransport(),
    smtp: transports.smtp({
      host: env.get('SMTP_HOST', '127.0.0.1'),
      port: env.get('SMTP_PORT', 587),
      auth: {
        type: 'login',
        user: env.get('SMTP_USERNAME', ''),
        pass: env.get('SMTP_PASSWORD', ''),
      },
    }),
  },
})

export default mailConfig

declare module '@adonisjs/mail/types' {
  export interface MailersList extends InferMailers<typeof mailConfig> {}
}
