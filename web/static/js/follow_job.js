// A page that follows a background job (rounds/import_job.html, rounds/document_job.html) without
// reloading itself (a timed page refresh fails WCAG 2.2.1): every few seconds it fetches the page again
// and swaps in the job's card (marked data-follow, its region announced politely) until the job has
// finished. If the page now answers with a redirect (an import done goes to its round, with a message
// the fetch has just taken), it is loaded again for real, so the browser follows it and shows the message.
(function () {
  "use strict";
  var card = document.querySelector("[data-follow]");
  if (!card || card.dataset.finished === "true") {
    return;
  }
  var every = Number(card.dataset.follow) || 3000;
  function poll() {
    fetch(window.location.href, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) {
        if (response.redirected) {
          window.location.reload();
          return null;
        }
        return response.ok ? response.text() : Promise.reject(response.status);
      })
      .then(function (html) {
        if (html === null) {
          return;
        }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(card.id);
        if (!fresh) {
          return;
        }
        card.innerHTML = fresh.innerHTML;
        card.dataset.status = fresh.dataset.status;
        card.dataset.finished = fresh.dataset.finished;
        if (fresh.dataset.finished !== "true") {
          window.setTimeout(poll, every);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 10000);  // the server is busy or restarting: try again later
      });
  }
  window.setTimeout(poll, every);
})();
