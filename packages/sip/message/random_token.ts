import { randomBytes } from 'node:crypto'

/** A source of unguessable tokens for tags, branches and cnonces; tests inject their own. */
export type TokenSource = () => string

/** 80 random bits, URL-safe: more than RFC 3261 19.3 asks of tags (32 bits) and branches. */
export const randomToken: TokenSource = () => randomBytes(10).toString('base64url')
