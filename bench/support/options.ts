/**
 * A benchmark's `--name value` option from its command line; `fallback` when the option is not
 * given or has no value after it.
 */
export function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`)
  return index >= 0 && process.argv[index + 1] ? process.argv[index + 1] : fallback
}
