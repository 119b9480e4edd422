// The page of a document made in the background (rounds/document_job.html) follows its job without
// reloading itself (a timed page refresh fails WCAG 2.2.1): every 3 s it fetches the page again and
// swaps in the job's card, whose region is announced politely, until the job has finished.
(function () {
  "use strict";
  var card = document.getElementById("document-job");
  if (!card || card.dataset.finished === "true") {
    return;
  }
  function poll() {
    fetch(window.location.href, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) {
        return response.ok ? response.text() : Promise.reject(response.status);
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("document-job");
        if (!fresh) {
          return;
        }
        card.innerHTML = fresh.innerHTML;
        card.dataset.status = fresh.dataset.status;
        card.dataset.finished = fresh.dataset.finished;
        if (fresh.dataset.finished !== "true") {
          window.setTimeout(poll, 3000);
        }
      })
      .catch(function () {
        window.setTimeout(poll, 10000);  // the server is busy or restarting: try again later
      });
  }
  window.setTimeout(poll, 3000);
})();
