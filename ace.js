/*
 * JavaScript entry point for ace commands: registers the TypeScript loader, then boots bin/console.ts.
 * Overwritten in the production build.
 */
import '@poppinss/ts-exec'

await import('./bin/console.js')
