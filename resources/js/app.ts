/*
 * Shared page behaviour. Every page works without JavaScript; this only adds convenience.
 */
document.querySelectorAll<HTMLFormElement>('form[data-confirm]').forEach((form) => {
  form.addEventListener('submit', (event) => {
    if (!window.confirm(form.dataset.confirm ?? '')) event.preventDefault()
  })
})
