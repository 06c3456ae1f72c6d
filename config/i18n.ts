import app from '@adonisjs/core/services/app'
import { defineConfig, formatters, loaders } from '@adonisjs/i18n'

// German is the primary language, English the second.
const i18nConfig = defineConfig({
  defaultLocale: 'de',
  supportedLocales: ['de', 'en'],
  formatter: formatters.icu(),
  loaders: [loaders.fs({ location: app.languageFilesPath() })],
})

export default i18nConfig
