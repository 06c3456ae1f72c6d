/** Who we are on the transparency pages and in the SCC annexes (the data exporter). */
export const operator = {
  name: 'FluffyCall',
  contact: 'datenschutz@fluffycall.de',
}

/**
 * The supervisory authority the privacy statement names for complaints (Art. 77 GDPR, Art. 13(2)(d)):
 * the one competent for the operator's establishment. Change it here when the operator moves.
 */
export const supervisoryAuthority = {
  name: 'Berliner Beauftragte für Datenschutz und Informationsfreiheit',
  address: 'Alt-Moabit 59-61, 10555 Berlin',
  url: 'https://www.datenschutz-berlin.de',
}
