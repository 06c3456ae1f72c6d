/*
 * Entry of the docked phone (components/phone_dock.edge, on every customer page). One tab of the
 * browser holds the WebPhone, the others control it (phone_tabs.ts); pages load in place around
 * it so a call survives navigation. Exposes the holder's phone as window.__phone for the browser
 * tests: state, the running call's RTCPeerConnection, the sip.js objects.
 */
import { AudioDevices } from './audio_devices.js'
import { PhonePage } from './phone_page.js'
import { PhoneTabs } from './phone_tabs.js'
import { TonePlayer } from './tone_player.js'
import { WebPhone } from './web_phone.js'
import { InPlaceNavigation } from '../shell/in_place_navigation.js'
import { originAllowed } from './origin_check.js'

declare global {
  interface Window {
    __phone?: WebPhone
  }
}

const root = document.querySelector<HTMLElement>('#web-phone')
if (root) {
  const devices = new AudioDevices()
  const tones = new TonePlayer()
  const page = new PhonePage(root, { devices, tones })
  const tabs = new PhoneTabs({
    page,
    createPhone: (listener) =>
      new WebPhone({
        credentialUrl: root.dataset.credentialUrl ?? '',
        csrfToken: root.dataset.csrfToken ?? '',
        devices,
        tones,
        listener,
        // Served by our test environment only (app.inTest): the E2EE test hooks.
        testHooks: root.dataset.testHooks === 'on',
      }),
    onHolder: (phone) => {
      window.__phone = phone
      window.addEventListener('pagehide', () => void phone.stop())
      // Closing the tab that holds the phone ends its calls (a party waiting on hold included):
      // the browser asks first.
      window.addEventListener('beforeunload', (event) => {
        if (phone.snapshot.call === null && !phone.snapshot.parked) return
        event.preventDefault()
        event.returnValue = ''
      })
    },
  })
  // The customer pages (the account's security pages included) load in place beside the phone.
  new InPlaceNavigation({ area: 'area-customer' }).start()
  // The SIP WebSocket refuses pages of another origin (e.g. 127.0.0.1 for localhost in production):
  // say so and where the phone works, instead of retrying forever.
  const refused = root.querySelector<HTMLElement>('#phone-origin-refused')
  if (refused && !originAllowed(window.location.origin, refused.dataset.sipOrigins ?? '')) {
    refused.hidden = false
    root.dataset.phoneState = 'origin_refused'
  } else {
    void page.start().then(() => tabs.start())
  }
}
