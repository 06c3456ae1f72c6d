/** Who we are on the transparency pages and in the SCC annexes (the data exporter). */
export const operator = {
  name: 'FluffyCall',
  contact: 'datenschutz@fluffycall.de',
}
