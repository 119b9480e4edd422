// The form editor (/designer/forms/KEY): the JSON Schema is sent to /designer/forms/preview, which
// checks it as the engine does and renders it as a task form; shown beside the text as you type.
(function () {
  var editor = document.querySelector(".form-editor");
  if (!editor) return;
  var text = editor.querySelector("#form-text");
  var problems = document.getElementById("text-problems");
  var preview = document.getElementById("form-preview");
  var token = document.querySelector('meta[name="csrf-token"]').content;
  var timer = null;

  function show(result) {
    if (result.valid) {
      text.classList.remove("is-invalid");
      problems.textContent = "";
      preview.innerHTML = result.html;
    } else {
      text.classList.add("is-invalid");
      problems.textContent = (result.problems || [result.error]).join("；");
      preview.innerHTML = '<p class="text-danger small mb-0">表单有误，无法预览。</p>';
    }
  }

  function refresh() {
    fetch(editor.dataset.previewUrl, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": token},
      body: JSON.stringify({text: text.value})
    }).then(function (r) { return r.json(); }).then(show).catch(function () {
      problems.textContent = "预览失败，请稍后重试";
    });
  }

  text.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  });
  editor.querySelector(".preview-button").addEventListener("click", refresh);
  refresh();
})();
