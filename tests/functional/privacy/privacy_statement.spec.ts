import { test } from '@japa/runner'
import { supervisoryAuthority } from '#config/privacy'

/**
 * The promises of the privacy statement that concern data subjects (compliance-notes.md): the
 * rights of Art. 15-18, 20, 21 and 77, the roles (processor / controller), the competent authority
 * and the contact address, in German and English, inside the statement itself (the footer's
 * address on every page does not count). Each check fails when its sentence goes.
 */
function paragraph(html: string, id: string) {
  const match = new RegExp(`<p id="${id}">([\\s\\S]*?)</p>`).exec(html)
  if (!match) return ''
  return match[1]
    .replace(/<[^>]+>/g, '')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/\s+/g, ' ')
    .trim()
}

const RIGHTS = {
  de: [
    'Auskunft (Art. 15)',
    'Berichtigung (Art. 16)',
    'Löschung (Art. 17)',
    'Einschränkung der Verarbeitung (Art. 18)',
    'Datenübertragbarkeit (Art. 20)',
    'Widerspruch (Art. 21)',
    'Beschwerde bei einer Aufsichtsbehörde (Art. 77 DSGVO)',
  ],
  en: [
    'access (Art. 15)',
    'rectification (Art. 16)',
    'erasure (Art. 17)',
    'restriction of processing (Art. 18)',
    'data portability (Art. 20)',
    'objection (Art. 21)',
    'complaint with a supervisory authority (Art. 77 GDPR)',
  ],
}

const ROLES = {
  de: [
    'Auftragsverarbeiter (Art. 28 DSGVO)',
    'an die Verwaltung ihrer Firma',
    'selbst verantwortlich',
  ],
  en: ['processor (Art. 28 GDPR)', "to their company's administrators", 'the controller itself'],
}

test.group("Privacy statement: data subjects' rights, roles, authority, contact", () => {
  for (const locale of ['de', 'en'] as const) {
    test(`{${locale}} every right, the roles, the authority and the contact address are stated`, async ({
      client,
      assert,
    }) => {
      const response = await client
        .get('/privacy')
        .header('accept-language', locale)
        .cookie('locale', locale)
      response.assertStatus(200)
      const html = response.text()
      const rights = paragraph(html, 'privacy-rights')
      for (const right of RIGHTS[locale]) assert.include(rights, right)
      const roles = paragraph(html, 'privacy-roles')
      for (const words of ROLES[locale]) assert.include(roles, words)
      const authority = paragraph(html, 'privacy-authority')
      assert.include(authority, supervisoryAuthority.name)
      assert.include(authority, supervisoryAuthority.address)
      assert.include(authority, 'Art. 77')
      assert.match(
        html,
        /<p id="privacy-contact"><a href="mailto:datenschutz@fluffycall\.de">[^<]*datenschutz@fluffycall\.de<\/a><\/p>/
      )
    })
  }
})
