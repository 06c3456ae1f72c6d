/*
 * Shared page behaviour. Every page works without JavaScript; this only adds convenience.
 */
document.querySelectorAll<HTMLFormElement>('form[data-confirm]').forEach((form) => {
  form.addEventListener('submit', (event) => {
    if (!window.confirm(form.dataset.confirm ?? '')) event.preventDefault()
  })
})

// Phones: the menu folds behind its button once this script runs (without it the menu stays open)
document.documentElement.classList.add('js')
const menuToggle = document.querySelector<HTMLButtonElement>('#menu-toggle')
const siteMenu = document.querySelector<HTMLElement>('#site-menu')
menuToggle?.addEventListener('click', () => {
  const open = menuToggle.getAttribute('aria-expanded') !== 'true'
  menuToggle.setAttribute('aria-expanded', String(open))
  siteMenu?.classList.toggle('open', open)
})
