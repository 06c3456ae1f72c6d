/*
 * Shared page behaviour. Every page works without JavaScript; this only adds convenience.
 * Listeners sit on the document, so pages loaded in place (shell/in_place_navigation.ts) get them too.
 */
document.addEventListener('submit', (event) => {
  const form = event.target as HTMLFormElement
  if (form.dataset.confirm !== undefined && !window.confirm(form.dataset.confirm ?? '')) event.preventDefault()
})

// Phones: the menu folds behind its button (html.js, set in the layout's head); without JavaScript it stays open
const menuToggle = document.querySelector<HTMLButtonElement>('#menu-toggle')
const siteMenu = document.querySelector<HTMLElement>('#site-menu')
menuToggle?.addEventListener('click', () => {
  const open = menuToggle.getAttribute('aria-expanded') !== 'true'
  menuToggle.setAttribute('aria-expanded', String(open))
  siteMenu?.classList.toggle('open', open)
})

// Copy buttons (devices page): shown only where the browser lets a page write the clipboard
if (navigator.clipboard) {
  document.querySelectorAll<HTMLButtonElement>('button.copy[data-copy]').forEach((button) => {
    const label = button.textContent
    button.hidden = false
    button.addEventListener('click', async () => {
      const source = document.querySelector(button.dataset.copy ?? '')
      if (!source?.textContent) return
      await navigator.clipboard.writeText(source.textContent.trim())
      button.textContent = button.dataset.copied ?? label
      setTimeout(() => (button.textContent = label), 2000)
    })
  })
}
