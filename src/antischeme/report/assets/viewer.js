// antischeme transcript viewer: filters the server-rendered transcripts by family, flag and group.
// The URL hash is the single source of the filter state (#family=email_scoring&flag=covert&group=after):
// the selects write it, and one hashchange handler applies it, so a link opens the same view.
(function () {
  "use strict";

  var KEYS = ["family", "flag", "group"];
  var viewer = document.getElementById("viewer");
  if (!viewer) {
    return;
  }
  var items = Array.prototype.slice.call(viewer.querySelectorAll("article.transcript"));
  var count = document.getElementById("viewer-count");
  var empty = viewer.querySelector(".empty");
  var selects = {};
  KEYS.forEach(function (key) {
    selects[key] = viewer.querySelector('select[name="' + key + '"]');
  });

  function readHash() {
    var params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    var state = {};
    KEYS.forEach(function (key) {
      state[key] = params.get(key) || "all";
    });
    state.rollout = params.get("rollout");
    return state;
  }

  function matches(item, state) {
    if (state.family !== "all" && item.dataset.family !== state.family) {
      return false;
    }
    if (state.group !== "all" && item.dataset.group !== state.group) {
      return false;
    }
    if (state.flag !== "all" && item.dataset.flags.split(" ").indexOf(state.flag) === -1) {
      return false;
    }
    return true;
  }

  function showInSelect(select, value) {
    // A hash may name a value the report has no option for: show it (matching nothing) rather than "all".
    var known = Array.prototype.some.call(select.options, function (option) {
      return option.value === value;
    });
    if (!known) {
      var option = document.createElement("option");
      option.value = value;
      option.textContent = value + " (not in this report)";
      select.appendChild(option);
    }
    select.value = value;
  }

  function apply(state) {
    KEYS.forEach(function (key) {
      if (selects[key]) {
        showInSelect(selects[key], state[key]);
      }
    });
    var shown = 0;
    items.forEach(function (item) {
      var visible = matches(item, state);
      item.hidden = !visible;
      if (visible) {
        shown += 1;
      }
    });
    count.textContent = "showing " + shown + " of " + items.length;
    viewer.dataset.shown = String(shown);
    if (empty) {
      empty.hidden = shown !== 0;
    }
    if (state.rollout) {
      var target = items.filter(function (item) {
        return item.dataset.rollout === state.rollout;
      })[0];
      if (target) {
        target.hidden = false;
        target.querySelector("details").open = true;
        target.scrollIntoView({ block: "start", behavior: "instant" });
      }
    }
  }

  function writeHash() {
    var params = new URLSearchParams();
    KEYS.forEach(function (key) {
      if (selects[key] && selects[key].value !== "all") {
        params.set(key, selects[key].value);
      }
    });
    var hash = params.toString();
    if (hash === window.location.hash.replace(/^#/, "")) {
      apply(readHash()); // no hashchange event for an unchanged hash
    } else {
      window.location.hash = hash;
    }
  }

  KEYS.forEach(function (key) {
    if (selects[key]) {
      selects[key].addEventListener("change", writeHash);
    }
  });
  window.addEventListener("hashchange", function () {
    apply(readHash());
  });
  viewer.addEventListener("click", function (event) {
    var action = event.target.getAttribute && event.target.getAttribute("data-action");
    if (!action) {
      return;
    }
    items.forEach(function (item) {
      if (action === "collapse" || !item.hidden) {
        item.querySelector("details").open = action === "expand";
      }
    });
  });

  apply(readHash());
  viewer.dataset.ready = "1";
})();
