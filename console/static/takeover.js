// The takeover page: appends the conversation's new messages each second, shows the red-flag
// alert, sends replies without leaving the page, and reloads when the request changes hands
// or ends (so the reply box shows only for the one who has it). Text is set with textContent.
(function () {
  "use strict";

  var INTERVAL_MS = 1000;
  var log = document.getElementById("live-log");
  if (!log) {
    return;
  }
  var feedUrl = log.getAttribute("data-feed");
  var after = Number(log.getAttribute("data-after")) || 0;
  var state = log.getAttribute("data-state");
  var holder = log.getAttribute("data-holder") === "1";
  var form = document.getElementById("reply-form");
  var text = document.getElementById("reply-text");
  var problem = document.getElementById("reply-error");

  function el(tag, className, value) {
    var node = document.createElement(tag);
    node.className = className;
    node.textContent = value;
    return node;
  }

  function nearBottom() {
    return window.innerHeight + window.scrollY >= document.body.scrollHeight - 120;
  }

  function append(message) {
    var empty = document.getElementById("live-empty");
    if (empty) {
      empty.remove();
    }
    var box = el("div", "msg " + message.kind, "");
    box.setAttribute("data-id", message.id);
    box.appendChild(el("div", "author", message.author + " · " + message.time));
    box.appendChild(el("div", "bubble", message.text));
    if (message.buttons && message.buttons.length) {
      var offered = el("div", "buttons-offered", "");
      message.buttons.forEach(function (title) {
        offered.appendChild(el("span", "offered", title));
      });
      box.appendChild(offered);
    }
    log.appendChild(box);
  }

  function show(data) {
    if (data.state !== state || data.holder !== holder) {
      window.location.reload();
      return;
    }
    var follow = nearBottom();
    data.messages.forEach(function (message) {
      if (message.id > after) {
        append(message);
        after = message.id;
      }
    });
    if (follow && data.messages.length) {
      window.scrollTo(0, document.body.scrollHeight);
    }
    var alert = document.getElementById("live-alert");
    alert.hidden = !data.alert;
    document.getElementById("live-alert-time").textContent = data.alert_time;
  }

  var timer = null;
  function poll() {
    window.clearTimeout(timer);
    fetch(feedUrl + "?after=" + after, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (response.status === 401) {
          return null;
        }
        return response.ok ? response.json() : {};
      })
      .then(function (data) {
        if (data === null) {
          return;
        }
        if (data.messages) {
          show(data);
        }
        timer = window.setTimeout(poll, INTERVAL_MS);
      })
      .catch(function () {
        timer = window.setTimeout(poll, INTERVAL_MS * 3);
      });
  }

  function send(event) {
    event.preventDefault();
    var button = document.getElementById("reply-send");
    button.disabled = true;
    problem.textContent = "";
    fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        "X-CSRFToken": form.querySelector('input[name="csrf_token"]').value,
      },
      body: new FormData(form),
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return { error: "The console answered " + response.status + ": reload the page and try again." };
          })
          .then(function (body) {
            if (response.ok && body.ok) {
              text.value = "";
              poll();
            } else {
              problem.textContent = body.error || "Not sent.";
            }
          });
      })
      .catch(function () {
        problem.textContent = "The console cannot be reached: your reply was not sent.";
      })
      .then(function () {
        button.disabled = false;
        text.focus();
      });
  }

  if (form) {
    form.addEventListener("submit", send);
    text.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }
  window.scrollTo(0, document.body.scrollHeight);
  poll();
})();
