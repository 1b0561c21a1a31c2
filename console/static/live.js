// Every console page: polls /waiting/feed each second (also the user's presence heartbeat),
// keeps the top bar's waiting count current, redraws the Waiting page's table, and, when
// the user switched it on, beeps or shows a desktop notification for a new request.
// Everything is drawn with textContent: patient text is never read as HTML.
(function () {
  "use strict";

  var INTERVAL_MS = 1000;
  var SOUND_KEY = "console-notify-sound";
  var DESKTOP_KEY = "console-notify-desktop";
  var SEEN_KEY = "console-seen-requests";

  var bar = document.querySelector(".topbar[data-feed]");
  if (!bar) {
    return;
  }
  var feedUrl = bar.getAttribute("data-feed");
  var waitingUrl = bar.getAttribute("data-waiting");
  var audio = null;
  var lastShape = null;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  function enabled(key) {
    try {
      return window.localStorage.getItem(key) === "1";
    } catch (error) {
      return false;
    }
  }

  // Browsers let a page play sound only after the user touched it: unlock on the first click or key.
  function unlockAudio() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context || !enabled(SOUND_KEY)) {
      return;
    }
    if (!audio) {
      audio = new Context();
    }
    if (audio.state === "suspended") {
      audio.resume();
    }
  }
  document.addEventListener("click", unlockAudio);
  document.addEventListener("keydown", unlockAudio);

  function beep() {
    unlockAudio();
    if (!audio || audio.state !== "running") {
      return;
    }
    var oscillator = audio.createOscillator();
    var gain = audio.createGain();
    oscillator.type = "sine";
    oscillator.frequency.value = 880;
    gain.gain.setValueAtTime(0.0001, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.25, audio.currentTime + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.45);
    oscillator.connect(gain);
    gain.connect(audio.destination);
    oscillator.start();
    oscillator.stop(audio.currentTime + 0.5);
  }

  function notify(title, body, tag) {
    if (enabled(SOUND_KEY)) {
      beep();
    }
    if (enabled(DESKTOP_KEY) && "Notification" in window && Notification.permission === "granted") {
      var note = new Notification(title, { body: body, tag: tag });
      note.onclick = function () {
        window.focus();
        window.location.href = waitingUrl;
      };
    }
  }

  // What this tab has already announced, kept across pages so a new page does not beep again.
  function seen() {
    try {
      var stored = window.sessionStorage.getItem(SEEN_KEY);
      return stored === null ? null : JSON.parse(stored);
    } catch (error) {
      return null;
    }
  }

  function announce(requests) {
    var known = seen();
    var now = {};
    requests.forEach(function (item) {
      var key = item.id + (item.alert ? ":" + item.alert_time : "");
      now[key] = true;
      if (known === null || known[key]) {
        return;
      }
      if (item.alert) {
        notify("Red flag in a conversation", "Request " + item.id + ": the patient was told to call 999.", "alert-" + item.id);
      } else if (item.state === "waiting") {
        var topic = item.topic_title ? " · " + item.topic_title : "";
        notify("A patient is waiting", item.channel_label + " · " + item.language_label + topic, "request-" + item.id);
      }
    });
    try {
      window.sessionStorage.setItem(SEEN_KEY, JSON.stringify(now));
    } catch (error) {
      // Private mode without storage: announcements may repeat, nothing else breaks.
    }
  }

  function updateCount(count) {
    var badge = document.getElementById("waiting-count");
    if (badge && badge.textContent !== String(count)) {
      badge.textContent = String(count);
    }
    if (badge) {
      badge.classList.toggle("some", count > 0);
    }
  }

  function takeForm(item) {
    var form = el("form");
    form.method = "post";
    form.action = item.take_url;
    var token = el("input");
    token.type = "hidden";
    token.name = "csrf_token";
    var meta = document.querySelector('meta[name="csrf-token"]');
    token.value = meta ? meta.getAttribute("content") : "";
    var button = el("button", "button primary small", "Take");
    button.type = "submit";
    form.appendChild(token);
    form.appendChild(button);
    return form;
  }

  function row(item) {
    var tr = el("tr", item.alert ? "alert" : "");
    tr.setAttribute("data-id", item.id);
    var wait = el("td", "nowrap");
    wait.appendChild(el("strong", "wait", item.wait));
    wait.appendChild(el("small", "block muted", "since " + item.requested));
    tr.appendChild(wait);
    var channel = el("td");
    channel.appendChild(el("span", "channel", item.channel_label));
    tr.appendChild(channel);
    tr.appendChild(el("td", "", item.language_label));
    tr.appendChild(el("td", "", item.topic_title || "–"));
    var messages = el("td");
    var list = el("ul", "plain compact lastmsgs");
    item.messages.forEach(function (message) {
      var li = el("li");
      li.appendChild(el("small", "muted", message.time));
      li.appendChild(document.createTextNode(" " + message.text));
      list.appendChild(li);
    });
    if (!item.messages.length) {
      list.appendChild(el("li", "muted", "No message yet"));
    }
    messages.appendChild(list);
    tr.appendChild(messages);
    var state = el("td");
    if (item.alert) {
      state.appendChild(el("span", "badge flag-emergency", "Red flag " + item.alert_time));
    }
    if (item.state === "waiting") {
      state.appendChild(el("span", "badge flag-low_confidence", "Waiting"));
    } else {
      state.appendChild(el("span", "badge ok", "Taken by " + item.staff_name));
    }
    tr.appendChild(state);
    var cell = el("td");
    var actions = el("div", "row-actions");
    if (item.can_take) {
      actions.appendChild(takeForm(item));
    }
    var open = el("a", "button ghost small", item.mine ? "Continue" : "Read");
    open.href = item.url;
    actions.appendChild(open);
    cell.appendChild(actions);
    tr.appendChild(cell);
    return tr;
  }

  function updateTable(data) {
    var body = document.getElementById("waiting-rows");
    if (!body) {
      return;
    }
    // Redraw rows only when something but the clock changed, so a button under the mouse stays put.
    var shape = JSON.stringify(
      data.requests.map(function (item) {
        return [item.id, item.state, item.staff_name, item.alert_time, item.can_take, item.messages];
      })
    );
    if (shape !== lastShape) {
      lastShape = shape;
      var rows = document.createDocumentFragment();
      data.requests.forEach(function (item) {
        rows.appendChild(row(item));
      });
      body.replaceChildren(rows);
    } else {
      data.requests.forEach(function (item, index) {
        var cell = body.rows[index] && body.rows[index].querySelector(".wait");
        if (cell) {
          cell.textContent = item.wait;
        }
      });
    }
    document.getElementById("waiting-empty").hidden = data.requests.length > 0;
    var staff = document.getElementById("staff-available");
    if (staff) {
      staff.textContent = String(data.staff_available);
    }
    var presence = document.getElementById("presence-state");
    if (presence) {
      presence.textContent = data.available ? "You are available" : "You are away";
      presence.classList.toggle("ok", data.available);
      document.getElementById("presence-value").value = data.available ? "0" : "1";
      var button = document.getElementById("presence-button");
      button.textContent = data.available ? "I'm away" : "I'm available";
      button.classList.toggle("primary", !data.available);
      button.classList.toggle("ghost", data.available);
    }
  }

  function poll() {
    fetch(feedUrl, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 401) {
          return null; // Signed out (elsewhere): stop, the next click goes to the sign-in page.
        }
        return response.ok ? response.json() : {};
      })
      .then(function (data) {
        if (data === null) {
          return;
        }
        if (data.requests) {
          updateCount(data.count);
          updateTable(data);
          announce(data.requests);
        }
        window.setTimeout(poll, INTERVAL_MS);
      })
      .catch(function () {
        window.setTimeout(poll, INTERVAL_MS * 3);
      });
  }

  function setting(box, key) {
    if (!box) {
      return;
    }
    box.checked = enabled(key);
    box.addEventListener("change", function () {
      try {
        window.localStorage.setItem(key, box.checked ? "1" : "0");
      } catch (error) {
        box.checked = false;
      }
      if (box.checked && key === SOUND_KEY) {
        unlockAudio();
        beep();
      }
      if (box.checked && key === DESKTOP_KEY) {
        if (!("Notification" in window)) {
          document.getElementById("notify-hint").textContent = "This browser cannot show notifications.";
          box.checked = false;
        } else if (Notification.permission !== "granted") {
          Notification.requestPermission().then(function (answer) {
            if (answer !== "granted") {
              box.checked = false;
              window.localStorage.setItem(key, "0");
              document.getElementById("notify-hint").textContent =
                "The browser refused notifications: allow them for this site in its settings.";
            }
          });
        }
      }
    });
  }

  setting(document.getElementById("notify-sound"), SOUND_KEY);
  setting(document.getElementById("notify-desktop"), DESKTOP_KEY);
  poll();
})();
