// Ensemble's small behaviours. No inline scripts anywhere: the Content-Security-Policy forbids them.
(function () {
  "use strict";

  // <form data-confirm="Remove Sam?">: ask before destructive actions, with or without htmx.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // <button data-copy="#id">: copy a shown-once secret to the clipboard.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) { return; }
    var source = document.querySelector(button.dataset.copy);
    if (source && navigator.clipboard) {
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        button.textContent = "Copied";
      });
    }
  });

})();

// Contacts: ticking rows for bulk actions, focus on the first field with an error, the active section.
(function () {
  "use strict";

  // <input type="checkbox" data-select-all="ids">: tick or untick every row checkbox named "ids" in
  // the same form; the header box follows the rows (mixed when some are ticked).
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement) || box.type !== "checkbox" || !box.form) { return; }
    var form = box.form;
    if (box.dataset.selectAll) {
      form.querySelectorAll('input[type="checkbox"][name="' + box.dataset.selectAll + '"]').forEach(function (row) {
        row.checked = box.checked;
      });
      return;
    }
    var all = form.querySelector('input[type="checkbox"][data-select-all="' + box.name + '"]');
    if (!all) { return; }
    var rows = Array.prototype.slice.call(form.querySelectorAll('input[type="checkbox"][name="' + box.name + '"]'));
    var ticked = rows.filter(function (row) { return row.checked; }).length;
    all.checked = ticked === rows.length;
    all.indeterminate = ticked > 0 && ticked < rows.length;
  });

  // After a form comes back with errors (a 422 swapped in by htmx, or a full page), put the keyboard
  // on the first field to fix, so nobody has to hunt for it.
  function focusFirstInvalid(root) {
    var field = root && root.querySelector && root.querySelector('[aria-invalid="true"]');
    if (field && typeof field.focus === "function") { field.focus(); }
  }
  document.addEventListener("htmx:afterSettle", function (event) {
    var xhr = event.detail && event.detail.xhr;
    // An outerHTML swap replaced the target: look in the document, where the new form now is.
    if (xhr && xhr.status === 422) { focusFirstInvalid(document); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    focusFirstInvalid(document);
    // On a narrow screen the workspace navigation scrolls sideways: show the section we are in.
    var current = document.querySelector('.workspace-nav a[aria-current="page"]');
    if (current && current.scrollIntoView) { current.scrollIntoView({ block: "nearest", inline: "center" }); }
  });
})();
