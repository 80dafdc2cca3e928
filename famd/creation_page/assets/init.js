// famd: register the proof-of-work worker the ALTCHA widget uses (served beside this file).
(function () {
  var base = document.currentScript.src;
  globalThis.$altcha.algorithms.set("SHA-256", function () {
    return new Worker(new URL("sha.js", base));
  });
  var note = document.getElementById("needs-js");
  if (note) { note.hidden = true; }
})();
