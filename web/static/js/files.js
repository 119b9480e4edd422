// File pickers (file_picker in _macros.html): show the names of the chosen files; a photo taken with
// 拍照 joins the files already chosen instead of replacing them.
function setUpFilePickers(root) {
  root.querySelectorAll(".file-picker").forEach((picker) => {
    const input = picker.querySelector(".files-input");
    const camera = picker.querySelector(".camera-input");
    const names = picker.querySelector(".file-names");
    const show = () => {
      const chosen = Array.from(input.files).map((f) => f.name);
      names.textContent = chosen.length > 1 ? `${chosen.length} 个文件：${chosen.join("、")}`
        : chosen.length ? chosen[0] : names.dataset.empty;
      names.title = names.textContent;
    };
    input.addEventListener("change", show);
    if (camera && window.DataTransfer) {
      camera.addEventListener("change", () => {
        const all = new DataTransfer();
        Array.from(input.files).concat(Array.from(camera.files)).forEach((f) => all.items.add(f));
        input.files = all.files;
        camera.value = "";  // the photo now travels with the main input, not twice
        show();
      });
    }
    show();
  });
}

// A form with data-upload-progress sends its files with a progress bar (photos from a phone on a slow
// connection take a while), then shows the page the server answers with — the next page after a
// redirect, or the same form with its errors — as a normal submission would.
function setUpUploadProgress(root) {
  root.querySelectorAll("form[data-upload-progress]").forEach((form) => {
    const box = form.querySelector(".upload-progress");
    const bar = box.querySelector("progress");
    const label = box.querySelector(".upload-progress-text");
    form.addEventListener("submit", (event) => {
      const hasFiles = Array.from(form.querySelectorAll("input[type=file]")).some((i) => i.files.length);
      if (!hasFiles || !window.FormData || !window.DOMParser) return;  // nothing to wait for: submit as usual
      event.preventDefault();
      const buttons = form.querySelectorAll("button[type=submit]");
      buttons.forEach((b) => { b.disabled = true; });
      box.hidden = false;
      const xhr = new XMLHttpRequest();
      xhr.open(form.method || "post", form.action);
      xhr.upload.addEventListener("progress", (e) => {
        if (!e.lengthComputable) return;
        const percent = Math.round((e.loaded / e.total) * 100);
        bar.value = percent;
        label.textContent = percent < 100 ? `正在上传：${percent}%` : "上传完成，正在保存……";
      });
      xhr.addEventListener("load", () => showAnswer(xhr));
      xhr.addEventListener("error", () => {
        buttons.forEach((b) => { b.disabled = false; });
        label.textContent = "上传失败：网络中断，请检查网络后重新提交。";
      });
      xhr.send(new FormData(form));
    });
  });
}

// The server's answer in place of this page: its title and body, its address in the location bar, and
// the body's scripts run again (the head's stay as they are).
function showAnswer(xhr) {
  const answer = new DOMParser().parseFromString(xhr.responseText, "text/html");
  document.title = answer.title;
  document.body.replaceWith(answer.body);
  if (xhr.responseURL && xhr.responseURL !== location.href) history.replaceState(null, "", xhr.responseURL);
  document.body.querySelectorAll("script[src]").forEach((old) => {
    const script = document.createElement("script");
    script.src = old.src;
    script.async = false;
    old.replaceWith(script);
  });
  window.scrollTo(0, 0);
  const main = document.getElementById("main");
  if (main) main.focus({ preventScroll: true });  // where a newly loaded page would start reading
}

setUpFilePickers(document);
setUpUploadProgress(document);
