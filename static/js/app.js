// Hoverfeed's only first-party script: generic glue between htmx and Tippy.js.
//
// A link marked `data-hovercard` carries its own htmx attributes (hx-get, hx-trigger) that
// fetch a fragment when the pointer enters it or it gets keyboard focus. This file shows
// that fragment in a Tippy popover: one DOM node per fragment URL, filled by htmx (never an
// HTML string handed to Tippy), shared by every link to the same URL, and not fetched again
// while fresh. It also works for links that htmx adds to the page later.
(function () {
  "use strict";

  // How long a fetched card is reused without asking again; matches its Cache-Control.
  var FRESH_MS = 60 * 1000;
  var cards = new Map(); // fragment URL -> { node, loadedAt, loading }

  function element(tag, className, text, role) {
    var node = document.createElement(tag);
    node.className = className;
    if (text) node.textContent = text;
    if (role) node.setAttribute("role", role);
    return node;
  }

  function cardFor(link) {
    var url = link.getAttribute("hx-get");
    var card = cards.get(url);
    if (!card) {
      var node = element("div", "hovercard", null, "dialog");
      node.id = "hovercard-" + (cards.size + 1);
      node.setAttribute("aria-label", "Profile of " + link.textContent.trim());
      node.appendChild(element("div", "hovercard-loading", "Loading…", "status"));
      card = { node: node, loadedAt: 0, loading: false };
      cards.set(url, card);
    }
    return card;
  }

  function isHovercard(elt) {
    return elt && elt.hasAttribute && elt.hasAttribute("data-hovercard");
  }

  // Escape closes the open card, as for any non-modal popup.
  var hideOnEsc = {
    name: "hideOnEsc",
    defaultValue: true,
    fn: function (instance) {
      function onKeyDown(event) {
        if (event.key === "Escape") instance.hide();
      }
      return {
        onShow: function () { document.addEventListener("keydown", onKeyDown); },
        onHide: function () { document.removeEventListener("keydown", onKeyDown); },
      };
    },
  };

  function attach(link) {
    if (link._tippy) return;
    tippy(link, {
      content: "",
      allowHTML: false,
      interactive: true,
      interactiveBorder: 12,
      delay: [400, 200], // hover intent in, grace period out
      trigger: "mouseenter focus",
      touch: false, // a tap on a name follows the link to the profile
      placement: "bottom-start",
      maxWidth: "none",
      theme: "hovercard",
      role: null, // the card node itself is the dialog
      aria: { content: null, expanded: "auto" },
      plugins: [hideOnEsc],
      onShow: function (instance) {
        tippy.hideAll({ exclude: instance, duration: 0 }); // one card at a time
        var card = cardFor(link);
        instance.setContent(card.node);
        link.setAttribute("aria-controls", card.node.id);
      },
      onHidden: function () {
        link.removeAttribute("aria-controls");
      },
    });
  }

  htmx.onLoad(function (root) {
    if (isHovercard(root)) attach(root);
    if (root.querySelectorAll) root.querySelectorAll("[data-hovercard]").forEach(attach);
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var link = event.detail.elt;
    if (!isHovercard(link)) return;
    var card = cardFor(link);
    if (card.loading || Date.now() - card.loadedAt < FRESH_MS) {
      event.preventDefault(); // fresh (or on its way): no second request
      return;
    }
    card.loading = true;
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var link = event.detail.elt;
    if (!isHovercard(link)) return;
    var card = cardFor(link);
    var ok = event.detail.xhr.status < 400;
    card.loading = false;
    card.loadedAt = ok ? Date.now() : 0; // an error is asked again on the next hover
    // The card (or the server's short error text) goes into the popover's node.
    event.detail.shouldSwap = true;
    event.detail.isError = !ok;
    event.detail.target = card.node;
    event.detail.swapOverride = "innerHTML";
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var link = event.detail.elt;
    if (isHovercard(link) && link._tippy && link._tippy.popperInstance) {
      link._tippy.popperInstance.update(); // new content, new size
    }
  });

  // A form whose request was refused (429 too many, 400 out of date, 404 gone...) gets the
  // server's short message in an alert above it; htmx swaps nothing on those statuses.
  // Text only: the fragment is parsed, never inserted as HTML.
  document.addEventListener("htmx:responseError", function (event) {
    var form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("form");
    if (!form || isHovercard(event.detail.elt)) return;
    var parsed = new DOMParser().parseFromString(event.detail.xhr.responseText, "text/html");
    var text = (parsed.body.textContent || "").trim() || "That did not work. Please try again.";
    var alert = form.previousElementSibling;
    if (!alert || !alert.classList.contains("form-refusal")) {
      alert = element("p", "flash flash-error form-refusal", null, "alert");
      form.parentNode.insertBefore(alert, form);
    }
    alert.textContent = text;
  });

  document.addEventListener("htmx:sendError", function (event) {
    var link = event.detail.elt;
    if (!isHovercard(link)) return;
    var card = cardFor(link);
    card.loading = false;
    card.node.replaceChildren(element("p", "hovercard-error", "Could not load this profile.", "alert"));
  });
})();
