/*
 * Shared page behaviour. Every page works without JavaScript; this only adds convenience.
 * Listeners sit on the document, so pages loaded in place (shell/in_place_navigation.ts) get them too.
 */
document.addEventListener('submit', (event) => {
  const form = event.target as HTMLFormElement
  if (form.dataset.confirm !== undefined && !window.confirm(form.dataset.confirm ?? ''))
    event.preventDefault()
})

// Phones: the menu folds behind its button (html.js, set in the layout's head); without JavaScript it stays open.
// Delegated, because in-place navigation swaps the top navigation.
document.addEventListener('click', (event) => {
  const toggle = (event.target as Element).closest<HTMLButtonElement>('#menu-toggle')
  if (!toggle) return
  const open = toggle.getAttribute('aria-expanded') !== 'true'
  toggle.setAttribute('aria-expanded', String(open))
  document.querySelector<HTMLElement>('#site-menu')?.classList.toggle('open', open)
})

// The top navigation's menus (details.nav-group): one open at a time; a click elsewhere or Escape closes it.
document.addEventListener('click', (event) => {
  const target = event.target as Element
  for (const group of document.querySelectorAll<HTMLDetailsElement>('details.nav-group[open]')) {
    if (!group.contains(target) || target.closest('.nav-group-links a')) group.open = false
  }
})
document.addEventListener('keydown', (event) => {
  if (event.key !== 'Escape') return
  for (const group of document.querySelectorAll<HTMLDetailsElement>('details.nav-group[open]'))
    group.open = false
})

// Phones: the docked web phone folds to its status line while no call runs (phone.css); its button
// opens and folds it. The dock stays across pages loaded in place, and so does the choice.
document.addEventListener('click', (event) => {
  const toggle = (event.target as Element).closest<HTMLButtonElement>('#phone-fold')
  const dock = toggle && document.querySelector<HTMLElement>('#web-phone')
  if (!toggle || !dock) return
  const folded = dock.dataset.folded !== 'true'
  dock.dataset.folded = String(folded)
  toggle.setAttribute('aria-expanded', String(!folded))
  toggle.textContent = (folded ? toggle.dataset.openLabel : toggle.dataset.closeLabel) ?? ''
  if (!folded) document.querySelector<HTMLInputElement>('#phone-number')?.focus()
})

// Copy buttons (devices page): shown only where the browser lets a page write the clipboard, also on
// pages loaded in place (the shell announces each with fluffycall:page-load).
function showCopyButtons() {
  if (!navigator.clipboard) return
  document
    .querySelectorAll<HTMLButtonElement>('button.copy[data-copy]')
    .forEach((button) => (button.hidden = false))
}
showCopyButtons()
document.addEventListener('fluffycall:page-load', showCopyButtons)
document.addEventListener('click', async (event) => {
  const button = (event.target as Element).closest<HTMLButtonElement>('button.copy[data-copy]')
  if (!button || !navigator.clipboard) return
  const source = document.querySelector(button.dataset.copy ?? '')
  if (!source?.textContent) return
  const label = button.dataset.label ?? button.textContent ?? ''
  button.dataset.label = label
  await navigator.clipboard.writeText(source.textContent.trim())
  button.textContent = button.dataset.copied ?? label
  setTimeout(() => (button.textContent = label), 2000)
})
