// Repeating rows (milestones, rules): add a row by copying the last one, renumbering its fields.
document.querySelectorAll('.rows').forEach(function (block) {
  var name = block.dataset.name;
  var tbody = block.querySelector('tbody');
  function renumber() {
    tbody.querySelectorAll('tr').forEach(function (row, index) {
      row.querySelectorAll('input, select').forEach(function (input) {
        input.name = input.name.replace(new RegExp('^' + name + '-\\d+-'), name + '-' + index + '-');
      });
    });
  }
  block.querySelector('.add-row').addEventListener('click', function () {
    var copy = tbody.lastElementChild.cloneNode(true);
    copy.querySelectorAll('input, select').forEach(function (input) { input.value = ''; input.classList.remove('is-invalid'); });
    copy.querySelectorAll('.invalid-feedback').forEach(function (el) { el.remove(); });
    tbody.appendChild(copy);
    renumber();
  });
  tbody.addEventListener('click', function (event) {
    if (!event.target.classList.contains('remove-row')) return;
    if (tbody.children.length > 1) { event.target.closest('tr').remove(); renumber(); }
    else { event.target.closest('tr').querySelectorAll('input, select').forEach(function (i) { i.value = ''; }); }
  });
});
