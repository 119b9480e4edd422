// The navigation menu on narrow screens: the toggler shows and hides #main-nav with Bootstrap's own
// collapse classes, without Bootstrap's 80 kB script. Listening on the document keeps it working when
// files.js swaps in a new page body after an upload.
document.addEventListener('click', function (event) {
  var button = event.target.closest('[data-nav-toggle]');
  if (!button) return;
  var open = document.getElementById(button.getAttribute('aria-controls')).classList.toggle('show');
  button.setAttribute('aria-expanded', open ? 'true' : 'false');
});
// Escape closes the open menu and gives focus back to its toggler.
document.addEventListener('keydown', function (event) {
  if (event.key !== 'Escape') return;
  var button = document.querySelector('[data-nav-toggle][aria-expanded=true]');
  if (!button) return;
  document.getElementById(button.getAttribute('aria-controls')).classList.remove('show');
  button.setAttribute('aria-expanded', 'false');
  button.focus();
});
