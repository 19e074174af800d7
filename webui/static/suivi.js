// Progressive: while a run goes on, refresh its section every 2 s (the page works without it).
(function () {
  "use strict";
  function poll() {
    var section = document.querySelector("[data-suivi]");
    if (!section || !window.fetch) { return; }
    window.setTimeout(function () {
      fetch(section.getAttribute("data-suivi"), {credentials: "same-origin"})
        .then(function (r) { return r.text(); })
        .then(function (text) {
          var fresh = new DOMParser().parseFromString(text, "text/html").getElementById("travail");
          if (fresh) { section.replaceWith(fresh); poll(); }
        });
    }, 2000);
  }
  poll();
}());
