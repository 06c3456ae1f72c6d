/*
 * Entry of the web phone page (pages/customer/phone.edge). Exposes the phone as window.__phone
 * for the browser tests: state, the running call's RTCPeerConnection, the sip.js objects.
 */
import { PhonePage } from './phone_page.js'

declare global {
  interface Window {
    __phone?: PhonePage['phone']
  }
}

const root = document.querySelector<HTMLElement>('#web-phone')
if (root) {
  const page = new PhonePage(root)
  window.__phone = page.phone
  window.addEventListener('pagehide', () => void page.phone.stop())
  void page.start()
}
