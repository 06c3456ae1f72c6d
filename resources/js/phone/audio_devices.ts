import type { Web } from 'sip.js'

const MICROPHONE_KEY = 'fluffycall.phone.microphone'
const SPEAKER_KEY = 'fluffycall.phone.speaker'

type MediaElementWithSink = HTMLMediaElement & { setSinkId?: (sinkId: string) => Promise<void> }

export interface DeviceChoice {
  id: string
  label: string
}

function stored(key: string): string {
  try {
    return localStorage.getItem(key) ?? ''
  } catch {
    return ''
  }
}

function store(key: string, value: string) {
  try {
    localStorage.setItem(key, value)
  } catch {
    // private mode: the choice lasts for this page only
  }
}

/**
 * Microphone and speaker choice. The microphone applies to every new call and, during a call, by
 * replacing the sending track; the speaker through setSinkId where the browser has it. Choices
 * are remembered in this browser ('' means the system default).
 */
export class AudioDevices {
  microphoneId = stored(MICROPHONE_KEY)
  speakerId = stored(SPEAKER_KEY)

  /** Whether the browser lets a page pick the speaker (Chromium does, some browsers do not). */
  get canChooseSpeaker(): boolean {
    return typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype
  }

  async list(): Promise<{ microphones: DeviceChoice[]; speakers: DeviceChoice[] }> {
    const devices = navigator.mediaDevices ? await navigator.mediaDevices.enumerateDevices() : []
    const choices = (kind: MediaDeviceKind) =>
      devices
        .filter(
          (device) =>
            device.kind === kind && device.deviceId !== 'default' && device.deviceId !== ''
        )
        .map((device, index) => ({ id: device.deviceId, label: device.label || `${index + 1}` }))
    return {
      microphones: choices('audioinput'),
      speakers: this.canChooseSpeaker ? choices('audiooutput') : [],
    }
  }

  constraints(): MediaStreamConstraints {
    return {
      audio: this.microphoneId ? { deviceId: { exact: this.microphoneId } } : true,
      video: false,
    }
  }

  /** sip.js asks this for the microphone of each call; the chosen device wins over sip.js's constraints. */
  mediaStreamFactory(): Web.MediaStreamFactory {
    return () => {
      if (!navigator.mediaDevices?.getUserMedia)
        return Promise.reject(new Error('getUserMedia is not available'))
      return navigator.mediaDevices.getUserMedia(this.constraints())
    }
  }

  async chooseMicrophone(id: string, peerConnection: RTCPeerConnection | undefined): Promise<void> {
    this.microphoneId = id
    store(MICROPHONE_KEY, id)
    const sender = peerConnection
      ?.getSenders()
      .find((candidate) => candidate.track?.kind === 'audio')
    if (!sender) return
    const stream = await navigator.mediaDevices.getUserMedia(this.constraints())
    const [track] = stream.getAudioTracks()
    const previous = sender.track
    track.enabled = previous?.enabled ?? true
    await sender.replaceTrack(track)
    previous?.stop()
  }

  async chooseSpeaker(id: string, elements: HTMLMediaElement[]): Promise<void> {
    this.speakerId = id
    store(SPEAKER_KEY, id)
    await Promise.all(elements.map((element) => this.applySpeaker(element)))
  }

  async applySpeaker(element: HTMLMediaElement): Promise<void> {
    const withSink = element as MediaElementWithSink
    if (withSink.setSinkId) await withSink.setSinkId(this.speakerId).catch(() => {})
  }

  onChange(callback: () => void): void {
    navigator.mediaDevices?.addEventListener('devicechange', callback)
  }
}
