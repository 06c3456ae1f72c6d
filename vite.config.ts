import { defineConfig } from 'vite'
import adonisjs from '@adonisjs/vite/client'

export default defineConfig({
  plugins: [
    adonisjs({
      entryPoints: ['resources/css/app.css', 'resources/js/app.ts', 'resources/js/phone/phone.css', 'resources/js/phone/main.ts', 'resources/js/admin/call_figures.ts'],
      reload: ['resources/views/**/*.edge'],
    }),
  ],
})
