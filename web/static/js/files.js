// Shows the names of the files chosen in each file picker (see file_picker in _macros.html).
document.querySelectorAll(".file-picker input[type=file]").forEach((input) => {
  const names = input.closest(".file-picker").querySelector(".file-names");
  const show = () => {
    const chosen = Array.from(input.files).map((f) => f.name);
    names.textContent = chosen.length ? chosen.join("、") : names.dataset.empty;
    names.title = names.textContent;
  };
  input.addEventListener("change", show);
  show();
});
