// Hoverfeed's only first-party script: generic glue between htmx and Tippy.js, and four
// small generic behaviours further down, each driven by a marker in the markup: polling
// (`data-poll`), keeping the reader's view in place (`data-keep-view`), times that stay
// current (`time[data-relative]`) and a live character count (`data-char-limit`).
//
// Hover cards.
// A link marked `data-hovercard` carries its own htmx attributes (hx-get, and hx-trigger on
// "hovercard:intent" and focus) that fetch a fragment when a person points at it or it gets
// keyboard focus. This file says when a person points (see "Intent" below) and shows that
// fragment in a Tippy popover: one DOM node per fragment URL, filled by htmx (never an HTML
// string handed to Tippy), shared by every link to the same URL, and not fetched again
// while fresh. It also works for links that htmx adds to the page later.
(function () {
  "use strict";

  // How long a fetched card is reused without asking again; matches its Cache-Control.
  var FRESH_MS = 60 * 1000;
  // What a link hears when a person points at it: its hx-trigger and its Tippy trigger.
  var INTENT = "hovercard:intent";
  // Two pointer positions closer than this (CSS pixels) are the same spot: an event repeated
  // where the pointer already is can come back a few thousandths of a pixel off.
  var SAME_SPOT = 0.5;
  var reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
  var cards = new Map(); // fragment URL -> { node, loadedAt, loading }
  var active = null; // the Tippy instance last asked to open (one card at a time)
  var quiet = null; // an instance that must not open while its name gets focus back

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

  function closestHovercard(elt) {
    return elt && elt.closest ? elt.closest("[data-hovercard]") : null;
  }

  // Intent follows the pointer, not the page. After a scroll, a layout shift or content
  // swapped in, the browser updates hover where the pointer already is (mouseover and
  // mouseenter, and Chromium may add a mousemove on the same spot): content moving under a
  // still pointer is not a person pointing. So a name hears INTENT only from a pointermove
  // that really moved and landed on it, once until the pointer leaves it; then htmx fetches
  // the card while Tippy waits out its delay. The first move seen on a page only says where
  // the pointer is: the page may have loaded under a pointer resting on a name.
  var lastSpot = null; // the pointer's last position, in viewport coordinates
  var pointedAt = null; // the name a person moved onto and has not left

  document.addEventListener(
    "pointermove",
    function (event) {
      // No hover on a touch screen: a tap on a name follows the link.
      if (event.pointerType === "touch") return;
      var moved =
        lastSpot !== null &&
        (Math.abs(event.clientX - lastSpot.x) >= SAME_SPOT ||
          Math.abs(event.clientY - lastSpot.y) >= SAME_SPOT);
      lastSpot = { x: event.clientX, y: event.clientY };
      var link = closestHovercard(event.target);
      if (link === pointedAt) return;
      // A different name (or none) under a pointer that did not move got there by itself.
      pointedAt = moved ? link : null;
      if (pointedAt) pointedAt.dispatchEvent(new CustomEvent(INTENT));
    },
    { capture: true, passive: true }
  );

  // Scrolling moves the page under the pointer: a card the pointer opened (or is about to)
  // closes, and a name that lands under the pointer waits for a real move. A card the
  // keyboard is on stays: focusing a name near the edge scrolls it into view, and Popper
  // keeps the card beside its name.
  document.addEventListener(
    "scroll",
    function (event) {
      pointedAt = null;
      if (!active || active.popper.contains(event.target)) return;
      var focused = document.activeElement;
      var keyboardOnIt =
        focused &&
        focused.matches(":focus-visible") &&
        (focused === active.reference || active.popper.contains(focused));
      if (keyboardOnIt) return;
      active.clearDelayTimeouts();
      active.hide();
    },
    { capture: true, passive: true }
  );

  // Escape closes the card, as for any non-modal popup. When focus was inside the card it
  // goes back to the name that opened it (not to the top of the page), which must not open
  // the card again.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !active) return;
    var instance = active;
    instance.clearDelayTimeouts();
    if (!instance.state.isVisible) return;
    var focusWasInside = instance.popper.contains(document.activeElement);
    instance.hide();
    if (focusWasInside) {
      quiet = instance; // Tippy opens on focus synchronously, inside focus()
      instance.reference.focus();
      quiet = null;
    }
  });

  // Tab past the card's last control closes it. (Tippy closes it when the name loses focus
  // to anything but the card; Tab and Shift+Tab between the name and the card keep it open,
  // the card coming right after its name in the page.)
  document.addEventListener("focusout", function (event) {
    var to = event.relatedTarget;
    if (!active || !active.state.isVisible || !to) return;
    var popper = active.popper;
    if (popper.contains(event.target) && !popper.contains(to) && to !== active.reference) {
      active.hide();
    }
  });

  // prefers-reduced-motion: the card appears and goes without its fade. (Tippy's duration,
  // not CSS: Tippy waits for the end of a transition it was told about before removing a
  // card, so a transition switched off in CSS would leave closed cards in the page.)
  function cardDuration() {
    return reducedMotion.matches ? 0 : tippy.defaultProps.duration;
  }

  reducedMotion.addEventListener("change", function () {
    document.querySelectorAll("[data-hovercard]").forEach(function (link) {
      if (link._tippy) link._tippy.setProps({ duration: cardDuration() });
    });
  });

  function attach(link) {
    if (link._tippy) return;
    var instance = tippy(link, {
      content: "",
      allowHTML: false,
      interactive: true, // appended right after the name, so Tab goes from the name into it
      interactiveBorder: 12,
      delay: [400, 200], // hover intent in, grace period out (keyboard focus: none)
      duration: cardDuration(),
      trigger: INTENT + " focus",
      touch: false, // a tap on a name follows the link to the profile
      placement: "bottom-start",
      maxWidth: "none",
      theme: "hovercard",
      role: null, // the card node itself is the dialog
      aria: { content: null, expanded: "auto" },
      onTrigger: function (instance) {
        active = instance;
      },
      onShow: function (instance) {
        if (instance === quiet) return false;
        // One card at a time, at once: any other, open or still fading out, goes now.
        document.querySelectorAll("[data-tippy-root]").forEach(function (root) {
          var other = root._tippy;
          if (other && other !== instance && isHovercard(other.reference)) other.unmount();
        });
        var card = cardFor(link);
        instance.setContent(card.node);
        link.setAttribute("aria-controls", card.node.id);
      },
      onHidden: function () {
        link.removeAttribute("aria-controls");
      },
    });
    // Tippy closes on mouseleave only for its own "mouseenter" trigger: the same here, from
    // the name and from the card (the pointer may cross into the card and out again).
    function leave(event) {
      instance.hideWithInteractivity(event);
    }
    link.addEventListener("mouseleave", leave);
    instance.popper.addEventListener("mouseleave", leave);
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

  // Focus inside a card when htmx replaces the part holding it (Follow becomes Unfollow).
  var focusInSwap = false;

  document.addEventListener("htmx:beforeSwap", function (event) {
    var link = event.detail.elt;
    if (!isHovercard(link)) {
      var target = event.detail.target;
      focusInSwap = Boolean(
        target && target.closest("[data-tippy-root]") && target.contains(document.activeElement)
      );
      return;
    }
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

  // htmx fires this on what it swapped in: a card's node, or a part of an open card.
  document.addEventListener("htmx:afterSwap", function (event) {
    var swapped = event.detail.elt;
    var popper = swapped.closest && swapped.closest("[data-tippy-root]");
    if (!popper || !popper._tippy) return;
    if (popper._tippy.popperInstance) popper._tippy.popperInstance.update(); // new size
    // The control that had focus is gone with the old part: without this, focus would fall
    // to the top of the page and Escape could no longer bring it back to the name.
    var lost = !document.activeElement || document.activeElement === document.body;
    if (focusInSwap && lost) {
      var control = swapped.querySelector(
        "button, [href], input:not([type=hidden]), select, textarea"
      );
      if (control) control.focus();
    }
    focusInSwap = false;
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

  // A reply form opened under a reply starts with "@name ": the caret goes after it
  // (focusing a field puts it first), so what one types follows the mention.
  document.addEventListener("focusin", function (event) {
    var field = event.target;
    if (!field.matches || !field.matches("textarea[data-caret-end]")) return;
    field.removeAttribute("data-caret-end");
    field.setSelectionRange(field.value.length, field.value.length);
  });

  // Polling. An element marked `data-poll="N"` hears POLL every N seconds while the page is
  // visible, and right away when the page comes back after being hidden for N seconds or
  // more; its own hx-trigger listens for POLL (htmx's `every Ns` would also ask from hidden
  // tabs, and its event filters need eval, which the CSP forbids). An element that htmx
  // replaces stops; its successor starts its own timer when htmx loads it.
  var POLL = "poll:tick";
  var hiddenSince = document.visibilityState === "visible" ? null : Date.now();

  function schedulePoll(elt) {
    clearTimeout(elt._poll.timer);
    elt._poll.timer = setTimeout(function () {
      if (!elt.isConnected) return;
      if (document.visibilityState === "visible") elt.dispatchEvent(new CustomEvent(POLL));
      schedulePoll(elt);
    }, elt._poll.ms);
  }

  function startPolling(elt) {
    var ms = Number(elt.getAttribute("data-poll")) * 1000;
    if (elt._poll || !(ms > 0)) return;
    elt._poll = { ms: ms, timer: 0 };
    schedulePoll(elt);
  }

  // A poll answered 401 (the session ended: logged out in another tab, say) stops for
  // good; the server sends no redirect for it (a background request), so nobody is taken
  // to the login page while writing. Their next action will take them there.
  document.addEventListener("htmx:responseError", function (event) {
    var elt = event.detail.elt;
    if (!elt || !elt._poll || event.detail.xhr.status !== 401) return;
    clearTimeout(elt._poll.timer);
    elt.removeAttribute("data-poll");
  });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "visible") {
      hiddenSince = Date.now();
      return;
    }
    var away = hiddenSince === null ? 0 : Date.now() - hiddenSince;
    hiddenSince = null;
    refreshTimes(document);
    document.querySelectorAll("[data-poll]").forEach(function (elt) {
      if (!elt._poll || away < elt._poll.ms) return;
      elt.dispatchEvent(new CustomEvent(POLL));
      schedulePoll(elt); // the next one N seconds from now, not from the last
    });
  });

  // Keeping the reader's view in place. When a request from an element marked
  // `data-keep-view` adds content above what the reader is looking at (the target's top is
  // scrolled out of view), the first of the target's children still on screen stays at the
  // same height on screen. CSS scroll anchoring would do this in Chromium and Firefox, but
  // not in Safari, and it is switched off for this one swap (html.keeping-view) so the two
  // never both move the page. When the target's top is on screen, the new content simply
  // shows. Focus on the control that asked, which the answer removes, goes to the first
  // thing added (without scrolling), not to the top of the page.
  var kept = null; // { node, top, first, target, refocus }

  function keepsView(elt) {
    return Boolean(elt && elt.hasAttribute && elt.hasAttribute("data-keep-view"));
  }

  // Before htmx disables the control for the request (hx-disabled-elt), which takes its
  // focus away.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (keepsView(elt)) elt._hadFocus = elt.contains(document.activeElement);
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    // detail.elt is the target here; the element that asked is in requestConfig.
    var elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    var target = event.detail.target;
    kept = null;
    if (!keepsView(elt) || !target || !event.detail.shouldSwap) return;
    var node = null;
    if (target.getBoundingClientRect().top < 0) {
      node = Array.prototype.find.call(target.children, function (child) {
        return child.getBoundingClientRect().bottom > 0;
      });
    }
    kept = {
      node: node || null,
      top: node ? node.getBoundingClientRect().top : 0,
      first: target.firstElementChild,
      target: target,
      refocus: Boolean(elt._hadFocus),
    };
    if (node) document.documentElement.classList.add("keeping-view");
  });

  document.addEventListener("htmx:afterSwap", function () {
    if (!kept) return;
    var done = kept;
    kept = null;
    if (done.node && done.node.isConnected) {
      var moved = done.node.getBoundingClientRect().top - done.top;
      if (Math.abs(moved) >= SAME_SPOT) window.scrollBy(0, moved);
    }
    document.documentElement.classList.remove("keeping-view");
    var lost = !document.activeElement || document.activeElement === document.body;
    var added = done.target.firstElementChild;
    if (done.refocus && lost && added && added !== done.first) {
      if (!added.hasAttribute("tabindex")) added.setAttribute("tabindex", "-1");
      added.focus({ preventScroll: true });
    }
  });

  // Times that stay current. A `<time datetime="..." data-relative>` shows how long ago it
  // was, worded exactly as the server words it (relative_time in webapp/core/templating.py:
  // "just now", "5 min ago", "3 hours ago", "2 weeks ago"); it is brought up to date every
  // 30 seconds while the page is visible, when the page comes back, and when htmx adds it.
  // (Intl.RelativeTimeFormat would say "5 min. ago" and "3 hr. ago" in English: a page
  // would then word the same age two ways.) Its title becomes the moment in the reader's
  // own time zone; the server can only write UTC there.
  var TIME_UNITS = [
    [365 * 24 * 3600, "year"],
    [30 * 24 * 3600, "month"],
    [7 * 24 * 3600, "week"],
    [24 * 3600, "day"],
    [3600, "hour"],
    [60, "min"],
  ];
  var localTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

  function relativeTime(seconds) {
    for (var i = 0; i < TIME_UNITS.length; i++) {
      var size = TIME_UNITS[i][0];
      var unit = TIME_UNITS[i][1];
      if (seconds >= size) {
        var count = Math.floor(seconds / size);
        return count + " " + unit + (count > 1 && unit !== "min" ? "s" : "") + " ago";
      }
    }
    return "just now"; // under a minute, or a clock a little ahead of the server's
  }

  function refreshTime(time) {
    // Python writes microseconds; Date.parse is only sure to read milliseconds.
    var moment = Date.parse(time.getAttribute("datetime").replace(/(\.\d{3})\d+/, "$1"));
    if (isNaN(moment)) return;
    var text = relativeTime(Math.floor((Date.now() - moment) / 1000));
    if (time.textContent !== text) time.textContent = text;
    if (!time._localTitle) {
      time.title = localTime.format(moment);
      time._localTitle = true;
    }
  }

  function refreshTimes(root) {
    if (root.matches && root.matches("time[data-relative]")) refreshTime(root);
    if (root.querySelectorAll) root.querySelectorAll("time[data-relative]").forEach(refreshTime);
  }

  setInterval(function () {
    if (document.visibilityState === "visible") refreshTimes(document);
  }, 30 * 1000);

  // A live character count. A textarea marked `data-char-limit="280"` gets "12/280" under
  // it, counted as the server counts (len() after clean_text in webapp/core/textrules.py:
  // code points, so an emoji is one; a line break is one; outer whitespace left out). A
  // screen reader hears it only near the limit, from a visually hidden polite live region
  // that speaks when the count crosses 20 left, 10 left, and over the limit (or back),
  // not at every keystroke. The server's "At most N characters" stays as the field's help.
  var NEAR = [20, 10]; // characters left at which a screen reader hears the count

  function charCount(value) {
    return Array.from(value.replace(/\r\n?/g, "\n").trim()).length;
  }

  function nearness(left) {
    if (left < 0) return NEAR.length + 1; // over the limit
    var level = 0;
    NEAR.forEach(function (threshold, i) {
      if (left <= threshold) level = i + 1;
    });
    return level;
  }

  function attachCounter(field) {
    var limit = Number(field.getAttribute("data-char-limit"));
    if (field._counter || !(limit > 0)) return;
    // Its place may be in the page already (the field macro writes it, so nothing moves
    // when it is filled); else it goes right after the field.
    var place = field.parentNode.querySelector(".char-count");
    var count = place || element("p", "char-count");
    var shown = count.querySelector(".char-count-number");
    var spoken = count.querySelector("[aria-live]");
    if (!shown) count.appendChild((shown = element("span", "char-count-number")));
    if (!spoken) {
      spoken = element("span", "visually-hidden");
      spoken.setAttribute("aria-live", "polite");
      count.appendChild(spoken);
    }
    if (!place) field.insertAdjacentElement("afterend", count);
    var state = { level: -1 };
    field._counter = state;
    function update() {
      var used = charCount(field.value);
      var left = limit - used;
      shown.textContent = used + "/" + limit;
      count.classList.toggle("over", left < 0);
      var level = nearness(left);
      if (state.level !== -1 && level !== state.level) {
        spoken.textContent =
          level === 0
            ? ""
            : left < 0
              ? -left + (left === -1 ? " character" : " characters") + " over the limit"
              : left + (left === 1 ? " character" : " characters") + " left";
      }
      state.level = level;
    }
    field.addEventListener("input", update);
    update();
  }

  htmx.onLoad(function (root) {
    refreshTimes(root);
    var found = function (selector, attach) {
      if (root.matches && root.matches(selector)) attach(root);
      if (root.querySelectorAll) root.querySelectorAll(selector).forEach(attach);
    };
    found("[data-poll]", startPolling);
    found("textarea[data-char-limit]", attachCounter);
  });
})();
