/*
 * Shared page behaviour. Every page works without JavaScript; this only adds convenience.
 * Listeners sit on the document, so pages loaded in place (shell/in_place_navigation.ts) get them too.
 */
document.addEventListener('submit', (event) => {
  const form = event.target as HTMLFormElement
  if (form.dataset.confirm !== undefined && !window.confirm(form.dataset.confirm ?? '')) event.preventDefault()
})
