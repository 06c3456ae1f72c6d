import { defineConfig } from 'vite'
import adonisjs from '@adonisjs/vite/client'

export default defineConfig({
  plugins: [
    adonisjs({
      entryPoints: [
        'resources/css/app.css',
        'resources/js/app.ts',
        'resources/js/phone/phone.css',
        'resources/js/phone/main.ts',
        'resources/js/admin/call_figures.ts',
      ],
      reload: ['resources/views/**/*.edge'],
    }),
  ],
  // Pre-bundled at the dev server's start: discovered on the first admin page view, Vite would
  // re-optimise and reload that page.
  optimizeDeps: { include: ['chart.js'] },
})
