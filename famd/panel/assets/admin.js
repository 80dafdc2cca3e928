// famd's administrator pages: a copy button for a text shown once (the API key).
// Without this script the text stays plain, selectable text; with it, the button
// appears and copies the text to the clipboard.
"use strict";
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  var source = document.getElementById(button.getAttribute("data-copy"));
  if (!source || !navigator.clipboard) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(source.textContent).then(function () {
      button.textContent = button.getAttribute("data-copied");
    });
  });
});
