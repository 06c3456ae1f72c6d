import { configApp } from '@adonisjs/eslint-config'

/**
 * The AdonisJS preset (with its Prettier rules). `npm run lint` checks; the one-off reformatting
 * of the tree (`npm run format`) is a commit of its own, made when no other branch is open.
 */
export default configApp({
  ignores: ['build/**', 'tmp/**', 'public/**', 'storage/**', 'node_modules/**'],
})
