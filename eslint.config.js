import { configApp } from '@adonisjs/eslint-config'

/**
 * The AdonisJS preset with its Prettier rules, run by bin/test (`npm run lint`). Two choices of ours:
 * - `(await query).first` reads as well as a temporary variable, and Lucid and the test client
 *   invite it on every page: unicorn/no-await-expression-member is off.
 * - `value != null` is the one loose comparison we allow: it means "neither null nor undefined"
 *   (Lucid leaves unset columns undefined on a model built in this process): eqeqeq 'smart'.
 */
export default configApp(
  {
    ignores: ['build/**', 'tmp/**', 'public/**', 'storage/**', 'node_modules/**'],
  },
  {
    rules: {
      '@unicorn/no-await-expression-member': 'off',
      'eqeqeq': ['error', 'smart'],
    },
  }
)
