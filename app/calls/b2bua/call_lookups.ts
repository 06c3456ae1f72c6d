import { keptRows } from '#accounts/kept_rows'

/**
 * The company and user rows a call reads (status, settings such as encrypted_only), kept between
 * calls until any of them changes: the accounts module's kept rows (#accounts/kept_rows), shared
 * with fraud's analysis and spend after the call. Shared instances: read them, never change and
 * save them.
 */
export const callLookups = keptRows
