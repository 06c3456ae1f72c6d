/*
 * The admin dashboard's call figures: charts (Chart.js, bundled by Vite, only the parts used) and a
 * refresh from admin.calls.figures every 15 s. Without JavaScript the numbers and tables the server
 * rendered stay.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js'

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Legend,
  Tooltip
)

interface Figures {
  callsNow: number
  totals: { calls: number; answered: number; failed: number }
  hours: Array<{
    hour: string
    label: string
    calls: number
    answered: number
    failed: number
    setupP95: number | null
  }>
  failuresByCause: Array<{ cause: string; count: number }>
  setup: { p50: number | null; p95: number | null }
  carriers: Array<{ name: string; options: string; registration: string }>
}

const REFRESH_MS = 15_000
const COLORS = { answered: '#2b8a3e', failed: '#c92a2a', other: '#adb5bd', setup: '#3b5bdb' }

function start(root: HTMLElement) {
  const locale = root.dataset.locale ?? 'de'
  const number = new Intl.NumberFormat(locale)
  const labels = (selector: string) =>
    new Map(
      [...root.querySelectorAll<HTMLDataElement>(selector)].map((item) => [
        item.value,
        item.textContent ?? '',
      ])
    )
  const causeLabels = labels('[data-cause-label]')
  const stateLabels = labels('[data-state-label]')
  const registrationLabels = labels('[data-registration-label]')
  const seconds = (value: number | null) =>
    value === null
      ? (root.dataset.labelNone ?? '–')
      : (root.dataset.labelSeconds ?? '{value} s').replace('{value}', number.format(value))
  const hourLabel = (iso: string) =>
    new Date(iso).toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' })

  const canvas = (id: string) => root.querySelector<HTMLCanvasElement>(`#${id}`)!
  const common = { responsive: true, maintainAspectRatio: false, animation: false as const }
  const perHour = new Chart<'bar', number[], string>(canvas('chart-calls-per-hour'), {
    type: 'bar',
    data: {
      labels: [],
      datasets: [
        { label: root.dataset.labelAnswered ?? '', data: [], backgroundColor: COLORS.answered },
        { label: root.dataset.labelFailed ?? '', data: [], backgroundColor: COLORS.failed },
        { label: root.dataset.labelOther ?? '', data: [], backgroundColor: COLORS.other },
      ],
    },
    options: {
      ...common,
      scales: {
        x: { stacked: true },
        y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
      },
    },
  })
  const setup = new Chart<'line', Array<number | null>, string>(canvas('chart-setup-per-hour'), {
    type: 'line',
    data: {
      labels: [],
      datasets: [
        {
          label: root.dataset.labelSetup ?? '',
          data: [],
          borderColor: COLORS.setup,
          spanGaps: true,
        },
      ],
    },
    options: {
      ...common,
      plugins: { legend: { display: false } },
      scales: { y: { beginAtZero: true } },
    },
  })
  const failures = new Chart<'bar', number[], string>(canvas('chart-failures'), {
    type: 'bar',
    data: {
      labels: [],
      datasets: [
        { label: root.dataset.labelFailed ?? '', data: [], backgroundColor: COLORS.failed },
      ],
    },
    options: {
      ...common,
      indexAxis: 'y',
      plugins: { legend: { display: false } },
      scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  })

  const show = (figures: Figures) => {
    const set = (key: string, text: string) => {
      const element = root.querySelector(`[data-figure="${key}"]`)
      if (element) element.textContent = text
    }
    set('callsNow', number.format(figures.callsNow))
    set('calls', number.format(figures.totals.calls))
    set('answered', number.format(figures.totals.answered))
    set('failed', number.format(figures.totals.failed))
    set('setupP50', seconds(figures.setup.p50))
    set('setupP95', seconds(figures.setup.p95))
    const up = figures.carriers.filter((carrier) => carrier.options === 'up').length
    const down = figures.carriers.filter((carrier) => carrier.options === 'down').length
    set(
      'carriersUpDown',
      (root.dataset.labelUpDown ?? '{up} / {down}')
        .replace('{up}', String(up))
        .replace('{down}', String(down))
    )

    const hours = figures.hours.map((hour) => hourLabel(hour.hour))
    perHour.data.labels = hours
    perHour.data.datasets[0].data = figures.hours.map((hour) => hour.answered)
    perHour.data.datasets[1].data = figures.hours.map((hour) => hour.failed)
    perHour.data.datasets[2].data = figures.hours.map(
      (hour) => hour.calls - hour.answered - hour.failed
    )
    perHour.update()
    setup.data.labels = hours
    setup.data.datasets[0].data = figures.hours.map((hour) => hour.setupP95)
    setup.update()
    failures.data.labels = figures.failuresByCause.map(
      (entry) => causeLabels.get(entry.cause) ?? entry.cause
    )
    failures.data.datasets[0].data = figures.failuresByCause.map((entry) => entry.count)
    failures.update()

    const table = root.querySelector('[data-figure="failuresByCause"]')
    if (table) {
      table.replaceChildren(
        ...figures.failuresByCause.map((entry) => {
          const row = document.createElement('tr')
          for (const text of [
            causeLabels.get(entry.cause) ?? entry.cause,
            number.format(entry.count),
          ]) {
            const cell = document.createElement('td')
            cell.textContent = text
            row.append(cell)
          }
          return row
        })
      )
    }
    const none = root.querySelector<HTMLElement>('[data-figure="failuresNone"]')
    if (none) none.hidden = figures.failuresByCause.length > 0
    for (const carrier of figures.carriers) {
      const row = root.querySelector(`tr[data-carrier="${CSS.escape(carrier.name)}"]`)
      const state = row?.querySelector<HTMLElement>('[data-carrier-options]')
      if (state) {
        state.textContent = stateLabels.get(carrier.options) ?? carrier.options
        state.className = `carrier-state carrier-${carrier.options}`
      }
      const registration = row?.querySelector('[data-carrier-registration]')
      if (registration)
        registration.textContent =
          registrationLabels.get(carrier.registration) ?? carrier.registration
    }
    root.dataset.refreshedAt = new Date().toISOString()
  }

  const refresh = async () => {
    try {
      const response = await fetch(root.dataset.url!, {
        headers: { accept: 'application/json' },
        credentials: 'same-origin',
      })
      if (response.ok) show((await response.json()) as Figures)
    } catch {
      // Offline for a moment: the next round tries again.
    }
  }
  void refresh()
  const timer = setInterval(() => {
    if (!root.isConnected) {
      clearInterval(timer)
      return
    }
    void refresh()
  }, REFRESH_MS)
}

const root = document.querySelector<HTMLElement>('#call-figures')
if (root) start(root)
