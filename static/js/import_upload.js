// The contact-list upload: drop a file on the drop area (or choose it with the file input, which
// keeps working by keyboard), then send it with XMLHttpRequest to show a progress bar and say in an
// aria-live line what happens. Without JavaScript the same form posts normally. Choosing a preset
// fills in the mode and tags it saved.
// Everything is delegated from `document`, so a form swapped in after a 422 works without rebinding.
(function () {
  "use strict";

  var current = null; // the running XMLHttpRequest, for "Cancel upload"

  function formOf(node) {
    return node && node.closest ? node.closest("form[data-upload-form]") : null;
  }

  function zoneOf(node) {
    return node && node.closest ? node.closest("[data-drop-zone]") : null;
  }

  function statusLine(form) {
    return document.querySelector(form.dataset.status || "#upload-status");
  }

  function say(form, text) {
    var line = statusLine(form);
    if (line) { line.textContent = text; }
  }

  function fileInput(form) {
    return form.querySelector('input[type="file"]');
  }

  function size(bytes) {
    if (bytes < 1024) { return bytes + " bytes"; }
    if (bytes < 1024 * 1024) { return (bytes / 1024).toFixed(0) + " KB"; }
    return (bytes / (1024 * 1024)).toFixed(1) + " MB";
  }

  function hasFiles(event) {
    var types = event.dataTransfer && event.dataTransfer.types;
    return !!types && Array.prototype.indexOf.call(types, "Files") !== -1;
  }

  function describeChoice(form) {
    var input = fileInput(form);
    var file = input && input.files && input.files[0];
    if (!file) { return; }
    var limit = parseInt(form.querySelector("[data-drop-zone]").dataset.maxBytes || "0", 10);
    if (limit && file.size > limit) {
      say(form, file.name + " has " + size(file.size) + "; the limit is " + size(limit) + ".");
      return;
    }
    say(form, "Chosen: " + file.name + " (" + size(file.size) + "). Press “Upload and map columns”.");
  }

  // --- Drag and drop onto the drop area ----------------------------------------------------------

  ["dragenter", "dragover"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      if (!hasFiles(event) || !document.querySelector("[data-drop-zone]")) { return; }
      // Never let the browser open a file dropped next to the area and leave the page.
      event.preventDefault();
      var zone = zoneOf(event.target);
      event.dataTransfer.dropEffect = zone ? "copy" : "none";
      if (zone) { zone.classList.add("is-dragover"); }
    });
  });

  document.addEventListener("dragleave", function (event) {
    var zone = zoneOf(event.target);
    if (zone && !zone.contains(event.relatedTarget)) { zone.classList.remove("is-dragover"); }
  });

  document.addEventListener("drop", function (event) {
    if (!hasFiles(event) || !document.querySelector("[data-drop-zone]")) { return; }
    event.preventDefault();
    var zone = zoneOf(event.target);
    if (!zone) { return; }
    zone.classList.remove("is-dragover");
    var form = formOf(zone);
    var files = event.dataTransfer.files;
    if (!form || !files || !files.length) { return; }
    if (files.length > 1) {
      say(form, "Drop one file at a time: " + files.length + " were dropped.");
      return;
    }
    var input = fileInput(form);
    try {
      input.files = files;
    } catch (error) {
      say(form, "This browser cannot take dropped files: choose the file with the button instead.");
      return;
    }
    input.dispatchEvent(new Event("change", { bubbles: true })); // as if chosen with the button
    input.focus();
  });

  // A newly chosen file makes the server's message about the previous one stale.
  function clearFileError(form) {
    var zone = form.querySelector("[data-drop-zone]");
    var input = fileInput(form);
    if (!zone || !zone.classList.contains("has-error")) { return; }
    zone.classList.remove("has-error");
    zone.querySelectorAll(".errorlist").forEach(function (list) { list.remove(); });
    if (input) { input.removeAttribute("aria-invalid"); }
  }

  // A chosen preset fills in its mode and tags (carried on its option); they stay editable, and
  // what the form says when it is sent is what the import uses.
  function applyPreset(form, select) {
    var option = select.options[select.selectedIndex];
    if (!option || !option.dataset.mode) { return; }
    var radio = form.querySelector('input[name="mode"][value="' + option.dataset.mode + '"]');
    if (radio) { radio.checked = true; }
    var tags = form.querySelector('input[name="tags"]');
    if (tags) { tags.value = option.dataset.tags || ""; }
    say(form, "Preset “" + option.textContent.trim() + "”: mode and tags filled in; its column mapping is used after the upload.");
  }

  document.addEventListener("change", function (event) {
    var form = formOf(event.target);
    if (form && event.target.type === "file") {
      clearFileError(form);
      describeChoice(form);
    } else if (form && event.target.hasAttribute("data-preset-select")) {
      applyPreset(form, event.target);
    }
  });

  // --- Upload with progress ----------------------------------------------------------------------

  function setBusy(form, busy) {
    var box = form.querySelector("[data-upload-progress]");
    var button = form.querySelector("[data-upload-submit]");
    if (box) { box.hidden = !busy; }
    if (button) {
      button.disabled = busy;
      button.setAttribute("aria-busy", busy ? "true" : "false");
    }
  }

  function showProgress(form, loaded, total) {
    var bar = form.querySelector("[data-upload-progress] progress");
    if (!bar) { return; }
    if (total) {
      var percent = Math.round((100 * loaded) / total);
      bar.value = percent;
      say(form, "Uploading… " + percent + " % (" + size(loaded) + " of " + size(total) + ")");
    } else {
      bar.removeAttribute("value"); // indeterminate
    }
  }

  // A 422: put the answered form in place of ours, keep the chosen file, and read out the problem.
  function replaceForm(form, html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    var fresh = template.content.querySelector("form[data-upload-form]");
    if (!fresh) { return false; }
    var chosen = fileInput(form) && fileInput(form).files;
    form.replaceWith(fresh);
    var input = fileInput(fresh);
    if (input && chosen && chosen.length) {
      try { input.files = chosen; } catch (error) { /* the person chooses it again */ }
    }
    var problems = Array.prototype.map.call(
      fresh.querySelectorAll(".errorlist li"), function (item) { return item.textContent.trim(); }
    );
    say(fresh, "The file was not accepted: " + (problems.join(" ") || "please look at the form."));
    var invalid = fresh.querySelector('[aria-invalid="true"]') || input;
    if (invalid) { invalid.focus(); }
    return true;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-upload-form")) { return; }
    if (!window.FormData || !("upload" in new XMLHttpRequest())) { return; } // plain form post
    event.preventDefault();
    if (current) { return; }
    var input = fileInput(form);
    var file = input && input.files && input.files[0];
    var xhr = new XMLHttpRequest();
    current = xhr;
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.upload.addEventListener("progress", function (progress) {
      showProgress(form, progress.loaded, progress.lengthComputable ? progress.total : 0);
    });
    xhr.upload.addEventListener("load", function () {
      showProgress(form, 0, 0);
      say(form, "Uploaded. Reading the file and suggesting the columns…");
    });
    xhr.addEventListener("load", function () {
      current = null;
      if (xhr.status === 201) {
        var location = xhr.getResponseHeader("Location");
        say(form, "Done. Opening the column mapping…");
        window.location.assign(location || form.action);
        return;
      }
      setBusy(form, false);
      if (xhr.status === 422 && replaceForm(form, xhr.responseText)) { return; }
      if (xhr.status === 413) {
        say(form, "The file is too large for the server. Split it into smaller files.");
      } else if (xhr.status === 403) {
        say(form, "You may not import contacts here, or your session ended: reload the page.");
      } else {
        say(form, "The upload failed (error " + xhr.status + "). Please try again.");
      }
    });
    xhr.addEventListener("error", function () {
      current = null;
      setBusy(form, false);
      say(form, "The upload was interrupted. Check the connection and try again.");
    });
    xhr.addEventListener("abort", function () {
      current = null;
      setBusy(form, false);
      say(form, "Upload cancelled. Nothing was stored.");
    });
    setBusy(form, true);
    showProgress(form, 0, file ? file.size : 0);
    say(form, file ? "Uploading " + file.name + "…" : "Sending…");
    xhr.send(new FormData(form));
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-upload-abort]");
    if (button && current) { current.abort(); }
  });
})();
